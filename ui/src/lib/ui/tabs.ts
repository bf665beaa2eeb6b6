// Arrow keys move between the tabs of a tablist (only the chosen tab is in the Tab order).
export function tabKeys<T extends string>(event: KeyboardEvent, tabs: readonly T[], current: T, choose: (tab: T) => void): void {
  const at = tabs.indexOf(current);
  let next: number;
  if (event.key === "ArrowRight") next = (at + 1) % tabs.length;
  else if (event.key === "ArrowLeft") next = (at - 1 + tabs.length) % tabs.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = tabs.length - 1;
  else return;
  event.preventDefault();
  choose(tabs[next]!);
  const list = event.currentTarget as HTMLElement;
  queueMicrotask(() => list.querySelectorAll<HTMLElement>("[role=tab]")[next]?.focus());
}
