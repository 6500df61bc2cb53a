import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, live } from './api';

/** An error in words, announced to screen readers. */
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.message : 'Something went wrong. Try again.';
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Loads on mount, and again when the live connection comes back (resync). */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => live.onState((_s, resynced) => resynced && setTick((n) => n + 1)), []);
  useEffect(() => {
    let stale = false;
    load().then(
      (d) => {
        if (!stale) {
          setData(d);
          setError(null);
        }
      },
      (e: unknown) => !stale && setError(e),
    );
    return () => {
      stale = true;
    };
  }, [tick, ...deps]);
  return { data, setData, error, reload: () => setTick((n) => n + 1) };
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
