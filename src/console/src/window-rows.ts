import { observeWindowOffset, observeWindowRect, type VirtualItem, Virtualizer, windowScroll } from '@tanstack/virtual-core';
import type { RefObject } from 'preact';
import { useLayoutEffect, useReducer, useState } from 'preact/hooks';

/**
 * Which rows of a long table scrolled with the page are on screen (plus `overscan` either side):
 * @tanstack/virtual-core's window virtualizer bound to Preact the way its React adapter binds it
 * (options on every render, mount and update hooks in layout effects). Only those rows are
 * rendered; `before` and `after` are the heights of the rows left out above and below, for
 * spacer rows that keep the scrollbar and the scroll position true. Rows are measured once
 * rendered (`measure` as their ref, with `data-index`), so rows of unequal height are fine.
 */
export function useWindowRows(options: {
  count: number;
  /** The table body: where the rows start on the page (it moves when content above it loads). */
  body: RefObject<HTMLElement | null>;
  estimateSize: number;
  getKey: (index: number) => string;
  overscan?: number;
}): { items: VirtualItem[]; before: number; after: number; measure: (el: HTMLElement | null) => void } {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [scrollMargin, setScrollMargin] = useState(0);
  const resolved = {
    count: options.count,
    estimateSize: () => options.estimateSize,
    getItemKey: options.getKey,
    overscan: options.overscan ?? 10,
    scrollMargin,
    getScrollElement: () => window,
    observeElementRect: observeWindowRect,
    observeElementOffset: observeWindowOffset,
    scrollToFn: windowScroll,
    initialOffset: () => window.scrollY,
    onChange: () => rerender(0),
  };
  const [v] = useState(() => new Virtualizer<Window, HTMLElement>(resolved));
  v.setOptions(resolved);
  useLayoutEffect(() => v._didMount(), []);
  useLayoutEffect(() => v._willUpdate());
  // Where the body starts on the page, again whenever the page's layout changes above it.
  useLayoutEffect(() => {
    const measure = () => {
      const el = options.body.current;
      if (!el) return;
      const top = Math.round(el.getBoundingClientRect().top + window.scrollY);
      setScrollMargin((m) => (m === top ? m : top));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(document.body);
    return () => observer.disconnect();
  }, []);
  const items = v.getVirtualItems();
  const first = items[0];
  const last = items.at(-1);
  return {
    items,
    before: first ? first.start - scrollMargin : 0,
    after: last ? Math.max(0, v.getTotalSize() - (last.end - scrollMargin)) : 0,
    measure: v.measureElement,
  };
}
