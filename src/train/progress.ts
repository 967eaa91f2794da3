/**
 * What `train()` tells its `onProgress` callback (the CLI draws its progress bar from these).
 * Times are seconds since the start of the run; `remaining` is an estimate.
 */
export type TrainProgress =
  | { type: 'start'; rows: number; series: number; columns: string[]; runs: number; timeBudget: number; period: number | null }
  | { type: 'stage'; stage: 'transform' | 'hidden' | 'ensemble'; runs: number; elapsed: number }
  | {
      type: 'epoch';
      /** 0-based index of this training run among all runs of the plan. */
      run: number;
      runs: number;
      label: string;
      epoch: number;
      maxEpochs: number;
      trainLoss: number;
      valLoss: number;
      /** Validation MAE per column, original units. */
      valMae: number[];
      bestEpoch: number;
      elapsed: number;
      remaining: number;
    }
  | { type: 'run'; run: number; runs: number; label: string; bestEpoch: number; epochs: number; valMae: number[]; valScore: number; seconds: number }
  | { type: 'done'; elapsed: number };
