import type { OpenLineageDataset, OpenLineageFacets, OpenLineageRunEvent } from './openlineage-types.js';

interface RunSoFar {
  inputs: Map<string, OpenLineageDataset>;
  outputs: Map<string, OpenLineageDataset>;
  runFacets: OpenLineageFacets;
  jobFacets: OpenLineageFacets;
}

/**
 * The runs of one stream of events (a file, a bridge), so the START, RUNNING and OTHER events of a
 * run fold into its COMPLETE or FAIL: producers often name some datasets and facets only on START.
 * A run is remembered after its final event too (bounded, oldest forgotten first), so a producer's
 * retry of that event folds the same way and maps to the same PEM, which RK stores once.
 */
export class OpenLineageRuns {
  readonly #runs = new Map<string, RunSoFar>();
  readonly #maxRuns: number;

  /** @param maxRuns runs remembered at once; default 10 000 */
  constructor(maxRuns = 10_000) {
    this.#maxRuns = maxRuns;
  }

  /** Runs held, waiting for their COMPLETE or FAIL. */
  get size(): number {
    return this.#runs.size;
  }

  /** Remembers what a non-final event says of its run. */
  fold(event: OpenLineageRunEvent): void {
    const run = this.#run(event.run.runId);
    add(run, event);
  }

  /** The final event with what earlier events of its run said (the final event wins a conflict). */
  complete(event: OpenLineageRunEvent): OpenLineageRunEvent {
    const known = this.#runs.get(event.run.runId);
    if (!known) {
      // Remember it, so a retry after a later START of the same run (unusual) folds alike.
      this.#run(event.run.runId);
      return event;
    }
    const merged: RunSoFar = {
      inputs: new Map(known.inputs),
      outputs: new Map(known.outputs),
      runFacets: { ...known.runFacets },
      jobFacets: { ...known.jobFacets },
    };
    add(merged, event);
    const result: OpenLineageRunEvent = {
      ...event,
      run: { ...event.run, ...(Object.keys(merged.runFacets).length ? { facets: merged.runFacets } : {}) },
      job: { ...event.job, ...(Object.keys(merged.jobFacets).length ? { facets: merged.jobFacets } : {}) },
    };
    if (merged.inputs.size) result.inputs = [...merged.inputs.values()];
    if (merged.outputs.size) result.outputs = [...merged.outputs.values()];
    return result;
  }

  #run(runId: string): RunSoFar {
    let run = this.#runs.get(runId);
    if (run) {
      this.#runs.delete(runId);
    } else {
      run = { inputs: new Map(), outputs: new Map(), runFacets: {}, jobFacets: {} };
      if (this.#runs.size >= this.#maxRuns) this.#runs.delete(this.#runs.keys().next().value!);
    }
    this.#runs.set(runId, run);
    return run;
  }
}

function add(run: RunSoFar, event: OpenLineageRunEvent): void {
  for (const d of event.inputs ?? []) run.inputs.set(`${d.namespace}\u0000${d.name}`, d);
  for (const d of event.outputs ?? []) run.outputs.set(`${d.namespace}\u0000${d.name}`, d);
  Object.assign(run.runFacets, event.run.facets ?? {});
  Object.assign(run.jobFacets, event.job.facets ?? {});
}
