// How far apart DASO's global synchronisations are in each epoch, and how long each may
// travel: heat's DASO.epoch_loss_logic (heat/optim/dp_optimizer.py lines 354–446 at 660efec),
// decided once per epoch from the training loss averaged over every replica, so that every
// replica decides alike.
//
// - Warm-up (lines 381–390) and cool-down (402–410): every step is a blocking global average.
// - The epoch that ends the warm-up starts cycling at globalSkip and batchesToWait (heat
//   hard-codes 4 and 1, lines 392–396) and the plateau check runs from then on (line 421).
// - On a plateau (lines 423–441): a skip above 1 is divided by skipReductionFactor and S
//   lowered by 1 (to no less than 1); at a skip of 1 both reset to maxGlobalSkip and
//   maxBatchesToWait (heat: 8 and 8 / 4).
//
// A group restarted from a checkpoint makes a new schedule, blocking until its first epoch
// end, then cycling from the start values again; all its replicas restart alike.
//
// Three corners where heat's code and intent part, and this follows the intent: with no
// warm-up heat never leaves its initial blocking state (the start values are set only when
// the completed epochs equal warmup_epochs), here the first epoch cycles; a skip divided
// below 1 would make heat block for good, here it stops at 1; S is kept at most the skip so
// that one global sync is in flight at a time (heat's values never break this).
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { LossPlateau } from './daso-plateau.js';

export type DasoConfig = ForwardForwardJobSpec['parallelism']['sync']['daso'];

/** DasoSkips holds one epoch's settings; globalSkip 0 means a blocking global average every step. */
export interface DasoSkips {
  globalSkip: number;
  batchesToWait: number;
}

const BLOCKING: DasoSkips = { globalSkip: 0, batchesToWait: 0 };

/** DasoSchedule follows one run's epochs and gives the skips of the one now running. */
export class DasoSchedule {
  private skips: DasoSkips;
  private readonly plateau: LossPlateau;

  constructor(
    private readonly config: DasoConfig,
    private readonly epochs: number,
  ) {
    this.plateau = new LossPlateau(config.plateau.threshold, config.plateau.patience);
    this.skips = this.blocking(0) ? BLOCKING : this.start();
  }

  /** current is the skips of the epoch now running. */
  get current(): DasoSkips {
    return this.skips;
  }

  /** endEpoch takes epoch `epoch`'s loss (mean over every replica) and returns the skips of the next epoch. */
  endEpoch(epoch: number, loss: number): DasoSkips {
    const next = epoch + 1;
    // heat starts the cycle when next == warmup_epochs; leaving any blocking state for a cycling
    // epoch is the same there, and also right for a replica that resumed after the warm-up.
    if (this.skips.globalSkip === 0 && !this.blocking(next)) this.skips = this.start();
    if (this.blocking(next)) {
      this.skips = BLOCKING;
    } else if (this.plateau.observe(loss)) {
      this.skips = this.afterPlateau(this.skips);
    }
    return this.skips;
  }

  private blocking(epoch: number): boolean {
    return epoch < this.config.warmupEpochs || epoch >= this.epochs - this.config.cooldownEpochs;
  }

  private start(): DasoSkips {
    return bounded(this.config.globalSkip, this.config.batchesToWait);
  }

  private afterPlateau({ globalSkip, batchesToWait }: DasoSkips): DasoSkips {
    if (globalSkip === 1) return bounded(this.config.maxGlobalSkip, this.config.maxBatchesToWait);
    // A blocking S (0) stays blocking; any other S falls by one to no less than 1.
    return bounded(
      Math.max(1, Math.floor(globalSkip / this.config.skipReductionFactor)),
      Math.max(Math.min(batchesToWait, 1), batchesToWait - 1),
    );
  }
}

function bounded(globalSkip: number, batchesToWait: number): DasoSkips {
  return { globalSkip, batchesToWait: Math.min(batchesToWait, globalSkip) };
}
