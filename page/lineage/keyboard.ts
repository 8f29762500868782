import type cytoscape from 'cytoscape';

/**
 * Keyboard use of the graph (focus it with Tab): Right walks to a node downstream of the
 * selected one, Left upstream, Up and Down step through the other nodes that the last move could
 * have reached; Enter opens a fold; `/` jumps to search; `+`, `-` zoom and `0` fits.
 */
export function bindKeys(page: { cy: cytoscape.Core; graphBox: HTMLElement; search: HTMLInputElement; select: (key: string) => void; selected: () => string | null }): void {
  const { cy, graphBox, search } = page;
  let choices: string[] = [];
  let choice = 0;
  const visible = (nodes: cytoscape.NodeCollection) => nodes.filter((n) => !n.hasClass('future')).map((n) => n.id());
  document.addEventListener('keydown', (event) => {
    if (event.key === '/' && document.activeElement !== search) {
      event.preventDefault();
      search.focus();
    }
  });
  graphBox.addEventListener('keydown', (event) => {
    const current = page.selected() ?? cy.nodes(':selected').first().id();
    const node = current ? cy.getElementById(current) : cy.collection();
    let handled = true;
    switch (event.key) {
      case 'ArrowRight':
      case 'ArrowLeft': {
        if (node.empty()) {
          const first = visible(cy.nodes().roots())[0] ?? cy.nodes().first().id();
          if (first) page.select(first);
          break;
        }
        choices = visible(event.key === 'ArrowRight' ? node.outgoers('node') : node.incomers('node'));
        choice = 0;
        if (choices[0]) page.select(choices[0]);
        break;
      }
      case 'ArrowUp':
      case 'ArrowDown':
        if (choices.length > 1) {
          choice = (choice + (event.key === 'ArrowDown' ? 1 : choices.length - 1)) % choices.length;
          page.select(choices[choice]!);
        }
        break;
      case 'Enter':
      case ' ':
        if (current) page.select(current);
        break;
      case '+':
      case '=':
        cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
        break;
      case '-':
        cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
        break;
      case '0':
        cy.fit(undefined, 24);
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });
}
