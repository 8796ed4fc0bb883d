import { useState } from 'react';
import { HangarError } from '../../shared/errors';

/**
 * A dialog's one action: busy while it runs, `onDone` when it succeeded;
 * on failure the dialog stays open with the user's draft and says why.
 */
export function useAction(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    action().then(onDone, (failure: unknown) => {
      setError(HangarError.from(failure).message);
      setBusy(false);
    });
  };
  return { busy, error, run };
}
