import type { Route } from '#functions/routes.ts';

/**
 * Which nested stack a route's function, integration and route live in
 * (docs/decisions.md, "CloudFormation resource budget"). The first rule that
 * matches wins; a route matched by none goes to the stack of its face. Rules
 * key on stable things (face and path), never on counts or order, so adding a
 * route never moves an existing one to another stack (a route key briefly in
 * two stacks would fail the deployment). Split an area by adding a rule above
 * it when `npm run synth` reports it over budget.
 */
export interface AreaRule {
  area: string;
  face?: Route['face'];
  path?: RegExp;
}

export const AREA_RULES: AreaRule[] = [
  // Stream data: packets, sessions, metadata, executions and datasets of one stream.
  { area: 'StreamData', face: 'native', path: /^\/v1\/streams\/\{[^}]+\}\/(packets|status|owner|sessions|metadata|data|executions|dataset)(\/|$)/ },
  // Streams, their versions, deployments and runs of one stream.
  { area: 'Streams', face: 'native', path: /^\/v1\/streams(\/|$)/ },
  // Runs, stats, aggregation stores and stream groups.
  { area: 'Runs', face: 'native', path: /^\/v1\/(runs|stats|aggregation-stores|stream-groups|group-runs)(\/|$)/ },
];

const faceArea = (face: string) => face.charAt(0).toUpperCase() + face.slice(1);

export function areaOf(route: Route, rules: AreaRule[] = AREA_RULES): string {
  const rule = rules.find((r) => (!r.face || r.face === route.face) && (!r.path || r.path.test(route.path)));
  return rule ? rule.area : faceArea(route.face);
}

/** Resources a nested stack may hold; CloudFormation's limit is 500, the rest is headroom. */
export const STACK_RESOURCE_BUDGET = 450;
