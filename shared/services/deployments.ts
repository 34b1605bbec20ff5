import { connectionIdsOf, connectionProblem, connectionReferences, type Definition } from '../model/definition.ts';
import { canTransition } from '../model/deployment.ts';
import { conflict, invalid, type ErrorDetail } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { AUTOSAVE } from '../model/versions.ts';
import { referencedItems, type Reference } from '../store/references.ts';
import { deployedConnectionsOf, deploymentUnchanged, updateStreamFields, updateStreamFieldsWith, type Deployment, type StreamRecord } from '../store/streams.ts';
import { getTag } from '../store/versions.ts';
import { slotFree } from '../store/slots.ts';
import { onDeployed, onUndeployed } from './deployment-hooks.ts';
import { connectionClaims, getStream, releaseUnused, tooManyConnections } from './streams.ts';

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

const notDeployable = (version: string, problems: ErrorDetail[]) =>
  invalid(`version ${version} cannot be deployed: ${problems[0].path}: ${problems[0].message}`, problems);

/**
 * Deploys a tag: only tags deploy (the autosaved version changes under the
 * schedule's feet), and only a definition whose references exist. The
 * deployment is recorded with a conditional write that, in the same
 * transaction, claims the connections the tag names (as a stream write claims
 * its definition's) and records them on the stream (`deployedConnections`), so
 * a connection deleted or retyped meanwhile fails the deploy, and one the
 * deployed version uses cannot be deleted or retyped while it stays deployed.
 * Then arms the schedule. Streams named by the tag are checked before the
 * write (nothing claims a stream); connections by the claims, and looked up
 * only when one is refused.
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
    const { definition } = tag;
    const connectionIds = connectionIdsOf(definition);
    // Tags frozen before stream writes had a cap: the deploy's transaction holds the stream and one claim per connection.
    const tooMany = tooManyConnections(definition);
    if (tooMany) throw notDeployable(version, [tooMany]);
    const claims = connectionClaims(definition, stream.solutionId, streamId);
    if (!claims || streamReferences(definition).length > 0) {
      const problems = await deployabilityProblems(stream.solutionId, definition);
      if (problems.length > 0) throw notDeployable(version, problems);
    }
    if (!canTransition('deploy', stream.deployment?.phase ?? null)) throw conflict(`stream ${streamId} cannot be deployed now`);
    const deployment: Deployment = { phase: 'deployed', version, deployedAt: new Date().toISOString() };
    const outcome = await updateStreamFieldsWith(streamId, { deployment, deployedConnections: connectionIds }, deploymentUnchanged(stream.deployment), claims ?? []);
    if (outcome === 'stale') continue;
    if (outcome !== 'ok') {
      const problems = await deployabilityProblems(stream.solutionId, definition);
      if (problems.length > 0) throw notDeployable(version, problems);
      continue; // A connection changed and changed back meanwhile: all is well now.
    }
    // The previously deployed version's connections that nothing uses now.
    await releaseUnused(streamId, deployedConnectionsOf(stream), { definition: stream.definition, deployedConnections: connectionIds }, { revision: stream.revision, deployment });
    await onDeployed({ ...stream, deployment, deployedConnections: connectionIds }, definition);
    return deployment;
  }
  throw conflict(`the deployment of stream ${streamId} is being changed by others; try again`);
}

/**
 * Undeploys: refused while a run is active (409); repeating it on an
 * undeployed stream answers the current deployment unchanged. The deployed
 * version's connections stop counting as used (deployedConnectionsOf) and are
 * released, best effort, unless the definition names them.
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
    const guard = deploymentUnchanged(current);
    const written = await updateStreamFields(streamId, { deployment }, {
      expression: `(${guard.expression}) AND ${slotFree('activeRun')}`,
      values: { ...guard.values, ':null': null },
      names: guard.names,
    });
    if (written) {
      // The deployed version's connections that the stream's definition does not name are no longer used.
      await releaseUnused(streamId, deployedConnectionsOf(stream), { definition: stream.definition, deployedConnections: [] }, { revision: stream.revision, deployment });
      await onUndeployed({ ...stream, deployment });
      return deployment;
    }
  }
  throw conflict(`the deployment of stream ${streamId} is being changed by others; try again`);
}
