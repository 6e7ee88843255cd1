/** Small DOM helpers. */

/** The element with this id; throws when the page lacks it (a bug in index.html, not user input). */
export function byId<T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`web: #${id} is missing from index.html`);
  return e as unknown as T;
}

/** Creates an element with a class and text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}
