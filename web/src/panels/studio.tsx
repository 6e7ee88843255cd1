/**
 * The study editor (placeholder until the editor lands).
 */
import { render } from "preact";

/** Renders the study editor into `root`. */
export function initStudio(root: HTMLElement): void {
  render(<p class="hint">Study editor</p>, root);
}
