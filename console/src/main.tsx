import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, forgetKey, onSignedOut, rememberKey, storedKey, type Scope } from './api.js';
import { ApisPage, ApiSeriesPage } from './apis.js';
import { FindingPage } from './finding.js';
import { FindingsPage } from './findings.js';
import { href, useRoute } from './router.js';
import { SettingsPage } from './settings.js';

function App() {
  const [scope, setScope] = useState<Scope | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  useEffect(() => onSignedOut(() => setScope(null)), []);
  useEffect(() => {
    if (storedKey() === null) return;
    whoAmI(undefined)
      .then(setScope, () => forgetKey())
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p class="muted">Loading…</p>;
  if (scope === null) return <SignIn onSignedIn={setScope} />;
  return <Shell scope={scope} onSignOut={() => (forgetKey(), setScope(null))} />;
}

async function whoAmI(key: string | undefined): Promise<Scope> {
  return (await api<{ id: string; scope: Scope }>('/v1/keys/self', { key })).scope;
}

function SignIn({ onSignedIn }: { onSignedIn: (scope: Scope) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const scope = await whoAmI(key.trim());
      rememberKey(key.trim());
      onSignedIn(scope);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? 'Unknown API key' : String(failure));
    }
  };
  return (
    <main class="sign-in">
      <h1>Trailsight</h1>
      <form onSubmit={submit}>
        <label>
          API key
          <input
            type="password"
            name="apiKey"
            autocomplete="off"
            required
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <p class="muted">The key stays in this tab (sessionStorage) and is sent as a Bearer token.</p>
      </form>
    </main>
  );
}

function Shell({ scope, onSignOut }: { scope: Scope; onSignOut: () => void }) {
  const route = useRoute();
  const section = route.path.split('/')[1];
  const page = (() => {
    const [, first, second] = route.path.split('/');
    if (first === 'findings' && second) return <FindingPage id={decodeURIComponent(second)} scope={scope} />;
    if (first === 'apis' && route.params.get('eventSource')) return <ApiSeriesPage params={route.params} />;
    if (first === 'apis') return <ApisPage params={route.params} />;
    if (first === 'settings') return <SettingsPage scope={scope} />;
    return <FindingsPage params={route.params} />;
  })();
  return (
    <>
      <header>
        <strong>Trailsight</strong>
        <nav aria-label="Main">
          {[
            ['findings', 'Findings'],
            ['apis', 'APIs'],
            ['settings', 'Settings'],
          ].map(([path, label]) => (
            <a href={href(`/${path}`)} aria-current={section === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="muted">{scope} key</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
