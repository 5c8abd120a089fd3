// The ForwardForwardJob status, written only by the operator. It is deliberately loose
// (x-kubernetes-preserve-unknown-fields) while the controller is being built: the fields
// below are the ones printer columns and clients rely on.
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './schema-helpers.js';

/** CONDITION_STATUSES are metav1.Condition's status values. */
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

const Condition = Type.Object(
  {
    type: Type.String({
      maxLength: 316,
      description: 'type is the condition: Created, Running, Restarting, Succeeded, Failed or Suspended.',
    }),
    status: StringEnum(CONDITION_STATUSES, { description: 'status is True, False or Unknown.' }),
    reason: Type.Optional(Type.String({ maxLength: 1024, description: 'reason is a CamelCase cause of the last transition.' })),
    message: Type.Optional(Type.String({ maxLength: 32768, description: 'message says what happened, for humans.' })),
    lastTransitionTime: Type.Optional(Type.String({ format: 'date-time', description: 'lastTransitionTime is when status last changed.' })),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'observedGeneration is the spec generation the condition was computed from.' }),
    ),
  },
  { description: 'conditions is one condition.' },
);

const Replica = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'index is the replica number inside its group (its lane).' }),
    pod: Type.String({ description: "pod is the replica's worker pod." }),
    phase: Type.String({ description: "phase is the replica's pod phase: Pending, Running, Succeeded, Failed." }),
    ready: Type.Boolean({ description: "ready is the pod's Ready condition." }),
    restarts: Type.Integer({ minimum: 0, description: 'restarts is how many times the operator restarted this replica.' }),
    chapter: Type.Optional(Type.Integer({ minimum: 0, description: 'chapter is the number of chapters this replica has finished.' })),
  },
  { description: 'replicas is one data-parallel replica of the group.' },
);

const Group = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'index is the group number, input side first.' }),
    layers: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, description: 'layers is one layer index.' }), {
        description: 'layers is the indices of the layers this group trains.',
      }),
    ),
    phase: Type.Optional(Type.String({ description: "phase is the group's worker state: Pending, Running, Succeeded, Failed." })),
    chapter: Type.Optional(Type.Integer({ minimum: 0, description: 'chapter is the number of chapters the group has finished.' })),
    loss: Type.Optional(Type.Number({ description: "loss is the mean FF loss over the group's layers in the last chapter." })),
    goodnessPositive: Type.Optional(Type.Number({ description: 'goodnessPositive is the mean goodness of positive rows.' })),
    goodnessNegative: Type.Optional(Type.Number({ description: 'goodnessNegative is the mean goodness of negative rows.' })),
    restarts: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "restarts is how many times the operator restarted the group's pods, all replicas together.",
      }),
    ),
    replicas: Type.Optional(
      Type.Array(Replica, { description: 'replicas is the state of each replica, when replicasPerGroup is above 1.' }),
    ),
  },
  { description: "groups is one layer group's progress.", 'x-kubernetes-preserve-unknown-fields': true },
);

/** ForwardForwardJobStatusSchema is the observed state of a job. */
export const ForwardForwardJobStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Type.Array(Condition, {
        description:
          "conditions is the job's state history; the condition that most recently became True is kept last " +
          '(the Status column shows the last one).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    groups: Type.Optional(Type.Array(Group, { description: 'groups is the progress of each layer group.' })),
    groupsReady: Type.Optional(Type.String({ description: 'groupsReady is "ready/total" layer groups, for kubectl get.' })),
    progress: Type.Optional(Type.String({ description: 'progress is "finished/total" chapters of the slowest group.' })),
    progressPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'progressPercent is progress in percent.' })),
    estimatedSecondsLeft: Type.Optional(
      Type.Integer({ minimum: 0, description: 'estimatedSecondsLeft extrapolates the time the finished chapters took.' }),
    ),
    testAccuracy: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'testAccuracy is the latest test-set accuracy, in [0, 1].' }),
    ),
    startTime: Type.Optional(Type.String({ format: 'date-time', description: "startTime is when the operator started the job's pods." })),
    completionTime: Type.Optional(Type.String({ format: 'date-time', description: 'completionTime is when the job succeeded or failed.' })),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'observedGeneration is the spec generation this status reflects.' }),
    ),
  },
  { description: 'status is the observed state, written by the operator.', 'x-kubernetes-preserve-unknown-fields': true },
);

/** ForwardForwardJobStatus is the status as stored. */
export type ForwardForwardJobStatus = Static<typeof ForwardForwardJobStatusSchema>;
