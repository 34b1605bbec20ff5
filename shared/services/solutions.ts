import { newId } from '../model/ids.ts';
import { conflict } from '../model/errors.ts';
import { nextCounterValue, putSolution, type Solution } from '../store/solutions.ts';

/** homeId 1 is the local runtime's default solution; created ones count on from the counter. */
export async function createSolution(name: string, homeId?: number): Promise<Solution> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const solution: Solution = {
      id: newId('solution'),
      name,
      homeId: homeId ?? (await nextCounterValue('homeId')) + 1,
      createdAt: new Date().toISOString(),
    };
    if (await putSolution(solution)) return solution;
    if (homeId !== undefined) throw conflict(`homeId ${homeId} is taken`);
  }
  throw conflict('could not allocate a homeId, try again');
}
