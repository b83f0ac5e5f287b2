// Listener lists whose registrations can be undone, so a caller waiting for one event does not
// leave its listener behind.

/** Adds `listener` to `listeners`; the returned function removes it again. */
export function subscribe<L>(listeners: L[], listener: L): () => void {
  listeners.push(listener);
  return () => {
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  };
}
