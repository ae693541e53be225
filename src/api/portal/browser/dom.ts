/** An element of the page by id, typed as the caller knows it to be (the markup is ours: page.html). */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
export const field = (id: string): HTMLInputElement => $<HTMLInputElement>(id);
export const area = (id: string): HTMLTextAreaElement => $<HTMLTextAreaElement>(id);

export type Child = Node | string | number | undefined | null | false;
type Attrs = Record<string, string | number | boolean | undefined | null | ((event: Event) => void)>;

/** Builds an element; text goes in as text (never `innerHTML`), so nothing a server returns is parsed as markup. */
export function el(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

/** Focuses the first element of `parent` matching `selector`, if any. */
export function focusIn(parent: Element | undefined | null, selector: string): void {
  parent?.querySelector<HTMLElement>(selector)?.focus();
}
