/** Small DOM helpers. */

/** The element with this id; throws when the page lacks it (a bug in index.html, not user input). */
export function byId<T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`web: #${id} is missing from index.html`);
  return e as unknown as T;
}
