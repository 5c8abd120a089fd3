// The loss-plateau test DASO adapts its skips with: heat's DetectMetricPlateau
// (heat/optim/utils.py lines 117–151 and 175–178 at 660efec, itself torch's ReduceLROnPlateau) in the
// one configuration DASO uses: mode min, relative threshold, no cool-down (dp_optimizer.py
// line 244). An epoch improves when its loss is below best·(1 − threshold) (best·(1 +
// threshold) for a negative best); the first epoch always improves, best starting at +∞.

/** LossPlateau says, once per epoch, whether the loss has stopped improving. */
export class LossPlateau {
  private best = Number.POSITIVE_INFINITY;
  private badEpochs = 0;

  constructor(
    private readonly threshold: number,
    private readonly patience: number,
  ) {}

  /**
   * observe takes one epoch's loss and is true when more than `patience` epochs in a row
   * failed to improve; the count then starts again, while the best loss is kept.
   */
  observe(loss: number): boolean {
    const bar = this.best >= 0 ? this.best * (1 - this.threshold) : this.best * (1 + this.threshold);
    if (loss < bar) {
      this.best = loss;
      this.badEpochs = 0;
    } else {
      this.badEpochs++;
    }
    if (this.badEpochs <= this.patience) return false;
    this.badEpochs = 0;
    return true;
  }
}
