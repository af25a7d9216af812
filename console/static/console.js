// The console's only script (the Content-Security-Policy allows no inline script or style attribute):
// a form with data-confirm asks first; a statistics bar takes its width from data-width (a percentage).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  for (const bar of document.querySelectorAll(".bar[data-width]")) bar.style.width = `${Number(bar.dataset.width)}%`;
});
