// Lets the metrics module count bytes and latency without the peer importing prom-client.

export interface TransferEvent {
  direction: 'sent' | 'received';
  /** bytes counts tensor bytes only, so sent and received totals compare directly. */
  bytes: number;
  seconds: number;
  chapter: number;
}

export type TransferObserver = (event: TransferEvent) => void;

/**
 * notifyTransfer calls the observer but keeps its failure from failing a transfer that
 * already succeeded: a broken metric must not stop training, yet it should be seen.
 */
export function notifyTransfer(observer: TransferObserver | undefined, event: TransferEvent): void {
  if (!observer) return;
  try {
    observer(event);
  } catch (error) {
    process.emitWarning(`transfer observer failed: ${String(error)}`, 'FFJobPeerWarning');
  }
}
