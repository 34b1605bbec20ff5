/**
 * The deployment lifecycle as one transition table. A stream starts with no
 * deployment (`null`); deploy moves it to `deployed` from any phase (a
 * redeploy switches the tag), undeploy only from `deployed`. Each transition
 * is written with a condition on the phase (and deployedAt) that was read, so
 * two racing callers cannot both win.
 */
export type DeploymentPhase = 'deployed' | 'undeployed';

export type DeploymentAction = 'deploy' | 'undeploy';

export const DEPLOYMENT_TRANSITIONS: Record<DeploymentAction, { from: (DeploymentPhase | null)[]; to: DeploymentPhase }> = {
  deploy: { from: [null, 'deployed', 'undeployed'], to: 'deployed' },
  undeploy: { from: ['deployed'], to: 'undeployed' },
};

export function canTransition(action: DeploymentAction, phase: DeploymentPhase | null): boolean {
  return DEPLOYMENT_TRANSITIONS[action].from.includes(phase);
}
