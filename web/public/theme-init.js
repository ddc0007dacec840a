// Applies the remembered (or system) theme before the first paint, so a reload never
// flashes the wrong colours. An external file rather than inline so a strict CSP allows it.
(function () {
  var choice = null;
  try {
    choice = localStorage.getItem('integr8scode-theme');
  } catch (e) {}
  var dark = choice === 'dark' || (choice !== 'light' && window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
})();
