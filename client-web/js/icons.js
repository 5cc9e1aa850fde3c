// The project's own icons (client-web/icons.svg, one <symbol> each), as inline SVG that
// takes the colour of its text. Decorative: the button or label around it carries the name.

const NS = "http://www.w3.org/2000/svg";

export function icon(name, className = "icon") {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(NS, "use");
  use.setAttribute("href", `/assets/icons.svg#${name}`);
  svg.append(use);
  return svg;
}

// Points an existing icon at another symbol (a toggle's on and off pictures).
export function setIcon(svg, name) {
  svg?.querySelector("use")?.setAttribute("href", `/assets/icons.svg#${name}`);
}
