import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export interface Loaded<T> {
  data?: T;
  error?: ApiError | Error;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change and, with `everyMs`, again on that period (the list refreshes
 * itself without a reload). A refresh never blanks what is shown; a stale answer is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: Error) => mine === generation.current && setState((old) => ({ ...old, error, loading: false })),
    );
  }, deps);
  useEffect(() => {
    setState({ loading: true });
    run();
    if (everyMs === undefined) return;
    const timer = setInterval(run, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { ...state, reload: run };
}

export function errorText(error: Error | undefined): string | undefined {
  if (!error) return undefined;
  return error instanceof ApiError ? `${error.status}: ${error.message}` : error.message;
}
