// Gatehouse's one page script, inline in every page (see `ui::PageScript`).
// Without it every link and form works as plain HTML; with it:
// - the islands' wasm loads when a person first uses a form that needs it
//   (presses on it, moves into it, types in it), not with the page;
// - following a link, or sending a search form, within Gatehouse fetches the
//   next page and puts its body in place of this one's, with its title and
//   address (back and forward too), instead of loading a whole document.
//   Forms that change something (POST) still load the page they lead to.
(() => {
  const nonce = document.currentScript.nonce;
  // 'none' until the wasm is asked for, 'loading', then 'ready' once the
  // frontend's `hydrate` has run (it dispatches `gatehouse:islands-ready`).
  let islands = 'none';
  addEventListener('gatehouse:islands-ready', () => {
    islands = 'ready';
  });

  // Leptos' scripts for the islands, held in the page's head (`ui::IslandScripts`).
  const islandScripts = (page) => page.head.querySelector(':scope > template#island-scripts');

  const loadIslands = () => {
    const template = islandScripts(document);
    if (islands !== 'none' || !template) return;
    islands = 'loading';
    const scripts = document.importNode(template.content, true);
    // The document's policy admits scripts with its own nonce, which differs
    // from that of a page shown later in it.
    scripts.querySelectorAll('script').forEach((script) => {
      script.nonce = nonce;
    });
    document.head.append(scripts);
  };
  const onUse = (event) => {
    if (event.target instanceof Element && event.target.closest('leptos-island')) loadIslands();
  };
  ['pointerdown', 'focusin', 'input'].forEach((use) => addEventListener(use, onUse, true));

  const here = () => location.pathname + location.search;
  let shown = here();

  // Addresses of the APIs and of OpenID Connect, which answer programs (or
  // send the browser on to another site), not with a page of Gatehouse.
  const notPages = ['/api/v1/', '/oauth/', '/.well-known/'];

  // The page a click leads to, if it is one of Gatehouse's that this script shows.
  const linkTarget = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return null;
    }
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!(link instanceof HTMLAnchorElement) || link.target || link.hasAttribute('download') || link.relList.contains('external')) return null;
    const url = new URL(link.href);
    if (url.origin !== location.origin || notPages.some((prefix) => url.pathname.startsWith(prefix))) return null;
    // A link within this page (the skip link) is the browser's own.
    if (url.hash && url.pathname + url.search === shown) return null;
    return url;
  };

  // The page a search form (GET) leads to, if this script shows it.
  const formTarget = (event) => {
    const form = event.target;
    const submitter = event.submitter;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || form.method !== 'get' || form.target) return null;
    if (submitter && (submitter.hasAttribute('formaction') || submitter.hasAttribute('formmethod'))) return null;
    const url = new URL(form.action);
    if (url.origin !== location.origin) return null;
    const fields = [...new FormData(form, submitter)].filter(([, value]) => typeof value === 'string');
    url.search = new URLSearchParams(fields).toString();
    url.hash = '';
    return url;
  };

  const stylesheet = (page) => page.querySelector('link[rel=stylesheet]')?.getAttribute('href');
  const wasm = (page) =>
    islandScripts(page)?.content.querySelector('link[rel=preload]')?.getAttribute('href');

  let latest = 0;
  // `how`: 'push' (a link or form), 'pop' (back or forward).
  const navigate = async (url, how) => {
    const mine = ++latest;
    const whole = () => (how === 'pop' ? location.replace(url) : location.assign(url));
    document.getElementById('main')?.setAttribute('aria-busy', 'true');
    let next;
    let arrived;
    let pageNonce;
    try {
      const response = await fetch(url, { headers: { Accept: 'text/html' } });
      if (!(response.headers.get('Content-Type') ?? '').startsWith('text/html')) throw new Error('not a page');
      arrived = new URL(response.url);
      pageNonce = /'nonce-([^']+)'/.exec(response.headers.get('Content-Security-Policy') ?? '')?.[1];
      next = new DOMParser().parseFromString(await response.text(), 'text/html');
    } catch {
      // What this script cannot show (a download, another site, no network)
      // the browser can, as it would without it.
      if (mine === latest) whole();
      return;
    }
    if (mine !== latest) return;
    // A new release of Gatehouse between two pages (its stylesheet or wasm
    // differs from this document's, loaded or not): load it whole.
    if (stylesheet(next) !== stylesheet(document) || (wasm(next) && wasm(document) && wasm(next) !== wasm(document))) {
      whole();
      return;
    }
    arrived.hash = url.hash;
    if (how === 'push') {
      // This script puts the page back where it was left, once it is there.
      history.scrollRestoration = 'manual';
      history.replaceState({ scroll: scrollY }, '');
      history.pushState({ scroll: 0 }, '', arrived);
    } else if (arrived.href !== location.href) {
      history.replaceState(history.state, '', arrived);
    }
    show(next, arrived, how, pageNonce);
  };

  const show = (next, url, how, pageNonce) => {
    shown = here();
    document.title = next.title;
    document.documentElement.lang = next.documentElement.lang;
    // The islands' scripts get this document's nonce when they load, so only
    // those the server gave that page's nonce are taken (never anything
    // that could have come from the page's content).
    const template = islandScripts(next);
    const trusted =
      template &&
      pageNonce &&
      [...template.content.querySelectorAll('script')].every((script) => script.getAttribute('nonce') === pageNonce);
    if (trusted && !islandScripts(document)) document.head.append(document.adoptNode(template));
    const body = document.body;
    for (const { name } of [...body.attributes]) body.removeAttribute(name);
    for (const { name, value } of next.body.attributes) body.setAttribute(name, value);
    // The parser made the arriving page's scripts inert; what they would do
    // to the page (the islands' data), this script and `hydrate` do.
    next.body.querySelectorAll('script').forEach((script) => script.remove());
    body.replaceChildren(...document.adoptNode(next.body).childNodes);
    if (islands === 'ready') {
      // Until then, the wasm hydrates whatever page is shown when it arrives.
      document.querySelectorAll('leptos-island').forEach((island) => {
        window.__hydrateIsland(island, island.dataset.component);
      });
    }
    const target = url.hash && document.getElementById(decodeURIComponent(url.hash.slice(1)));
    if (how === 'pop') scrollTo(0, history.state?.scroll ?? 0);
    else if (target) target.scrollIntoView();
    else scrollTo(0, 0);
    // Where a screen reader starts on a new page: what the page puts first
    // (the search box after a search), else its main content.
    if (!document.activeElement || document.activeElement === body) {
      const start = body.querySelector('[autofocus]') ?? document.getElementById('main') ?? body.querySelector('h1');
      if (start) {
        if (!start.matches('input, select, textarea, button, a[href]') && !start.hasAttribute('tabindex')) {
          start.setAttribute('tabindex', '-1');
        }
        start.focus({ preventScroll: true });
      }
    }
  };

  addEventListener('click', (event) => {
    const url = linkTarget(event);
    if (!url) return;
    event.preventDefault();
    navigate(url, 'push');
  });
  addEventListener('submit', (event) => {
    const url = formTarget(event);
    if (!url) return;
    event.preventDefault();
    navigate(url, 'push');
  });
  addEventListener('popstate', () => {
    // A change of the address's #fragment alone is the browser's own.
    if (here() !== shown) navigate(new URL(location.href), 'pop');
  });
})();
