// A one-line outcome or error under a form or a list, announced to screen readers.
import type { ComponentChildren } from 'preact';

export interface NoticeProps {
  kind: 'error' | 'success' | 'info';
  testId?: string;
  children: ComponentChildren;
}

export function Notice({ kind, testId, children }: NoticeProps) {
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </p>
  );
}
