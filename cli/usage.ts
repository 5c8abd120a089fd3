// `ffjob --help`.
export const USAGE = `ffjob: Forward-Forward training, on Kubernetes or on this machine

usage:
  ffjob train --local JOB.yaml [--dir DIR] [--fresh] [--restarts N] [--output text|json]
      run the job here, one worker process per layer group; checkpoints, logs
      (DIR/logs/group-N.log) and the model go to DIR (default runs/<job name>);
      a crashed worker restarts from its checkpoint up to N times in all (default 0);
      a checkpoint of another run (other name, layers, learning rate...) is refused:
      --fresh moves DIR/checkpoints aside and starts over
  ffjob train JOB.yaml
      on a cluster, submit the job with: kubectl apply -f JOB.yaml
  ffjob validate JOB.yaml [--allow-host-access]
      check a job file as the API server would; prints OK or every problem;
      templates asking for host access are refused as the chart's admission
      policy refuses them, unless --allow-host-access (the cluster allows them)
  ffjob eval --model DIR [--dataset-path DIR] [--output text|json]
      test accuracy of a saved model on MNIST's test set (or IDX files in DIR)
  ffjob predict --model DIR --index N [--dataset-path DIR] [--output text|json]
      predicted and true label of test image N
  ffjob worker --job FILE --group N --listen HOST:PORT --metrics-listen HOST:PORT --dir DIR ...
      [--upstream HOST:PORT] [--downstream HOST:PORT] [--scores-to HOST:PORT] [--token-file FILE]
      one worker process: what each pod (and the local runner) starts
  ffjob --help | --version

FFJOB_LOG_FORMAT=json|text and FFJOB_LOG_LEVEL=debug|info|warn|error shape worker logs;
FFJOB_DEBUG=1 adds the stack trace to an unexpected error.
`;
