// The operator's Prometheus metrics, on a private registry with the ffjob_operator_ prefix.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../observe/metrics.js';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'ffjob_operator_reconciles_total',
    help: 'Reconciles by result: success, requeue (success with a delay) or error.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'ffjob_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly jobs = new Gauge({
    name: 'ffjob_operator_jobs',
    help: 'ForwardForwardJobs by phase (the last condition that is True, or Pending).',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'ffjob_operator_queue_depth',
    help: 'Jobs waiting in the work queue.',
    registers: [this.registry],
  });
  readonly podRestarts = new Counter({
    name: 'ffjob_operator_pod_restarts_total',
    help: 'Worker pods deleted and recreated after a failure.',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'ffjob_operator_leader',
    help: '1 while this instance holds the leader lease.',
    registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectProcessMetrics(this.registry, 'ffjob_operator_');
  }
}
