import { connectionProblem, connectionReferences, type Definition } from '../model/definition.ts';
import { canTransition } from '../model/deployment.ts';
import { conflict, invalid, type ErrorDetail } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { AUTOSAVE } from '../model/versions.ts';
import { referencedItems, type Reference } from '../store/references.ts';
import { updateStreamFields, type Deployment, type StreamRecord } from '../store/streams.ts';
import { getTag } from '../store/versions.ts';
import { slotFree } from '../store/slots.ts';
import { onDeployed, onUndeployed } from './deployment-hooks.ts';
import { getStream } from './streams.ts';

/** Node config fields that name another stream, per node type (connections: connectionReferences). */
const STREAM_REFERENCES: Record<string, string[]> = { 'dataset-source': ['streamId'], 'packet-sink': ['streamId'] };

function streamReferences(definition: Definition): (Reference & { path: string; node: number })[] {
  return definition.nodes.flatMap((node, i) =>
    (STREAM_REFERENCES[node.type] ?? []).flatMap((field) => {
      const id = node.config?.[field];
      return typeof id === 'string' && id ? [{ kind: 'stream' as const, id, path: `definition.nodes[${i}].config.${field}`, node: i }] : [];
    }),
  );
}

/**
 * What stops a definition from being deployed in a solution: every stream and
 * connection it names must exist there, and each connection be of a type its
 * nodes accept. One entry per bad reference, in node order.
 */
export async function deployabilityProblems(solutionId: string, definition: Definition): Promise<ErrorDetail[]> {
  const streams = streamReferences(definition);
  const connections = connectionReferences(definition);
  if (streams.length === 0 && connections.length === 0) return [];
  const found = await referencedItems([...streams, ...connections.map((ref) => ({ kind: 'connection' as const, id: ref.connectionId }))]);
  const problems = [
    ...streams
      .filter((ref) => found.get(`stream:${ref.id}`)?.solutionId !== solutionId)
      .map((ref) => ({ node: ref.node, path: ref.path, message: `stream ${ref.id} does not exist in this solution` })),
    ...connections.flatMap((ref) => {
      const problem = connectionProblem(ref, solutionId, found.get(`connection:${ref.connectionId}`));
      return problem ? [{ node: ref.node, path: ref.path, message: problem.message }] : [];
    }),
  ];
  return problems.sort((a, b) => a.node - b.node).map(({ path, message }) => ({ path, message }));
}

/** The condition that the stream's deployment is still the one read. */
function sameDeployment(previous: Deployment | null): { expression: string; values: Record<string, unknown>; names: Record<string, string> } {
  if (!previous) {
    return { expression: 'attribute_not_exists(#dep) OR #dep = :null', values: { ':null': null }, names: { '#dep': 'deployment' } };
  }
  return {
    expression: '#dep.#phase = :prevPhase AND #dep.#at = :prevAt AND #dep.#ver = :prevVersion',
    values: { ':prevPhase': previous.phase, ':prevAt': previous.deployedAt, ':prevVersion': previous.version },
    names: { '#dep': 'deployment', '#phase': 'phase', '#at': 'deployedAt', '#ver': 'version' },
  };
}

/**
 * Deploys a tag: only tags deploy (the autosaved version changes under the
 * schedule's feet), and only a definition whose references exist. Records
 * the deployment with a conditional write, then arms the schedule.
 */
export async function deployStream(principal: Principal, streamId: string, version: string): Promise<Deployment> {
  if (version.toLowerCase() === AUTOSAVE) {
    throw invalid(`the autosaved version cannot be deployed; tag it first (POST /v1/streams/${streamId}/versions) and deploy the tag`, [
      { path: 'version', message: 'autosave cannot be deployed' },
    ]);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const stream = await getStream(principal, streamId);
    const tag = await getTag(streamId, version);
    if (!tag) throw invalid(`stream ${streamId} has no version tagged ${version}`, [{ path: 'version', message: `no tag ${version}` }]);
    const problems = await deployabilityProblems(stream.solutionId, tag.definition);
    if (problems.length > 0) throw invalid(`version ${version} cannot be deployed: ${problems[0].path}: ${problems[0].message}`, problems);
    if (!canTransition('deploy', stream.deployment?.phase ?? null)) throw conflict(`stream ${streamId} cannot be deployed now`);
    const deployment: Deployment = { phase: 'deployed', version, deployedAt: new Date().toISOString() };
    if (await updateStreamFields(streamId, { deployment }, sameDeployment(stream.deployment))) {
      await onDeployed({ ...stream, deployment }, tag.definition);
      return deployment;
    }
  }
  throw conflict(`the deployment of stream ${streamId} is being changed by others; try again`);
}

/**
 * Undeploys: refused while a run is active (409); repeating it on an
 * undeployed stream answers the current deployment unchanged.
 */
export async function undeployStream(principal: Principal, streamId: string): Promise<Deployment> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stream: StreamRecord = await getStream(principal, streamId);
    const current = stream.deployment;
    if (!current) throw conflict(`stream ${streamId} is not deployed`);
    if (current.phase === 'undeployed') return current;
    if (!canTransition('undeploy', current.phase)) throw conflict(`stream ${streamId} cannot be undeployed now`);
    if (stream.activeRun) throw conflict(`stream ${streamId} has an active run ${stream.activeRun.id}; stop it before undeploying`);
    const deployment: Deployment = { ...current, phase: 'undeployed', undeployedAt: new Date().toISOString() };
    const guard = sameDeployment(current);
    const written = await updateStreamFields(streamId, { deployment }, {
      expression: `(${guard.expression}) AND ${slotFree('activeRun')}`,
      values: { ...guard.values, ':null': null },
      names: guard.names,
    });
    if (written) {
      await onUndeployed({ ...stream, deployment });
      return deployment;
    }
  }
  throw conflict(`the deployment of stream ${streamId} is being changed by others; try again`);
}
