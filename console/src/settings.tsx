import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, type Scope } from './api.js';
import { when } from './format.js';
import { errorText, useLoad } from './load.js';
import { href, useRoute } from './router.js';

const TABS = [
  ['destinations', 'Destinations'],
  ['suppressions', 'Suppressions'],
  ['windows', 'Maintenance windows'],
  ['tuning', 'Tuning'],
  ['keys', 'API keys'],
] as const;

/** Reads for any key; every write action exists only for an admin key. */
export function SettingsPage({ scope }: { scope: Scope }) {
  const tab = useRoute().params.get('tab') ?? 'destinations';
  const admin = scope === 'admin';
  return (
    <section>
      <h1>Settings</h1>
      <nav class="tabs" aria-label="Settings">
        {TABS.map(([id, label]) => (
          <a href={href('/settings', { tab: id })} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {!admin && <p class="muted">A read key sees these settings; changing them needs an admin key.</p>}
      {tab === 'destinations' && <Destinations admin={admin} />}
      {tab === 'suppressions' && <Suppressions admin={admin} />}
      {tab === 'windows' && <Windows admin={admin} />}
      {tab === 'tuning' && <Tuning admin={admin} />}
      {tab === 'keys' && <Keys admin={admin} />}
    </section>
  );
}

/** Runs one write, reports its outcome beside the form and refreshes the list. */
function useAction(reload: () => void) {
  const [message, setMessage] = useState<string>();
  const run = async (label: string, action: () => Promise<unknown>) => {
    try {
      const answer = await action();
      setMessage(`${label}: done${typeof answer === 'string' ? ` ${answer}` : ''}`);
      reload();
    } catch (error) {
      setMessage(`${label}: ${errorText(error as Error)}`);
    }
  };
  const note = message ? (
    <p aria-live="polite" class="note">
      {message}
    </p>
  ) : null;
  return { run, note, setMessage };
}

function fields(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((value, name) => {
    if (typeof value === 'string' && value.trim() !== '') out[name] = value.trim();
  });
  return out;
}

function pick(values: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => values[n] !== undefined).map((n) => [n, values[n]]));
}

function Field({
  name,
  label,
  type = 'text',
  required,
  placeholder,
}: {
  name: string;
  label: string;
  type?: 'text' | 'url' | 'number' | 'datetime-local';
  required?: boolean;
  placeholder?: string;
}) {
  return (
    <label>
      {label}
      <input name={name} type={type as 'text'} required={required} placeholder={placeholder} />
    </label>
  );
}

function Failure({ error }: { error?: Error }) {
  return error ? (
    <p role="alert" class="error">
      {errorText(error)}
    </p>
  ) : null;
}

function CreateForm({
  title,
  onSubmit,
  children,
}: {
  title: string;
  onSubmit: (values: Record<string, string>, form: HTMLFormElement) => void;
  children: ComponentChildren;
}) {
  return (
    <form
      class="create"
      aria-label={title}
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        onSubmit(fields(form), form);
      }}
    >
      <h3>{title}</h3>
      {children}
      <button type="submit">{title}</button>
    </form>
  );
}

interface Webhook {
  id: string;
  type: string;
  url: string;
  description?: string;
  events: string[];
  enabled: boolean;
  disabledReason?: string;
  consecutiveFailures: number;
}

function Destinations({ admin }: { admin: boolean }) {
  const list = useLoad(() => api<{ items: Webhook[] }>('/v1/webhooks'), []);
  const { run, note } = useAction(list.reload);
  const [open, setOpen] = useState<string>();
  return (
    <>
      <Failure error={list.error} />
      <table>
        <thead>
          <tr>
            <th>Type</th>
            <th>Target</th>
            <th>Events</th>
            <th>State</th>
            {admin && <th>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((hook) => (
            <>
              <tr key={hook.id}>
                <td>{hook.type}</td>
                <td>
                  {hook.url}
                  {hook.description ? ` (${hook.description})` : ''}
                </td>
                <td>{hook.events.join(', ')}</td>
                <td>{hook.enabled ? 'enabled' : `disabled${hook.disabledReason ? `: ${hook.disabledReason}` : ''}`}</td>
                {admin && (
                  <td class="buttons">
                    <button
                      type="button"
                      onClick={() =>
                        run('Test', () =>
                          api(`/v1/webhooks/${hook.id}/test`, { method: 'POST' }).then(
                            (a) => `(${(a as { outcome: string }).outcome})`,
                          ),
                        )
                      }
                    >
                      Test
                    </button>
                    <button
                      type="button"
                      aria-expanded={open === hook.id}
                      onClick={() => setOpen(open === hook.id ? undefined : hook.id)}
                    >
                      Deliveries
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        run(hook.enabled ? 'Disable' : 'Enable', () =>
                          api(`/v1/webhooks/${hook.id}`, { method: 'PATCH', body: { enabled: !hook.enabled } }),
                        )
                      }
                    >
                      {hook.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button
                      type="button"
                      onClick={() => run('Delete', () => api(`/v1/webhooks/${hook.id}`, { method: 'DELETE' }))}
                    >
                      Delete
                    </button>
                  </td>
                )}
              </tr>
              {open === hook.id && (
                <tr>
                  <td colSpan={5}>
                    <Deliveries id={hook.id} />
                  </td>
                </tr>
              )}
            </>
          ))}
        </tbody>
      </table>
      {note}
      {admin && (
        <CreateForm
          title="Add destination"
          onSubmit={(values, form) =>
            void run('Add destination', async () => {
              const created = await api<{ secret?: string }>('/v1/webhooks', {
                method: 'POST',
                body: {
                  ...pick(values, ['type', 'url', 'routingKey', 'secret', 'description']),
                  events: ['insight.start', 'insight.end'].filter((e) => values[e] === 'on'),
                },
              });
              form.reset();
              return created.secret ? `(signing secret, shown once: ${created.secret})` : undefined;
            })
          }
        >
          <label>
            Type
            <select name="type">
              {['webhook', 'slack', 'teams', 'pagerduty'].map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
          <Field name="url" label="URL" type="url" placeholder="https://hooks.example.com/trailsight" />
          <Field name="routingKey" label="PagerDuty routing key" />
          <Field name="secret" label="Secret (webhook; blank: generated)" />
          <Field name="description" label="Description" />
          <label class="check">
            <input type="checkbox" name="insight.start" checked /> insight.start
          </label>
          <label class="check">
            <input type="checkbox" name="insight.end" checked /> insight.end
          </label>
        </CreateForm>
      )}
    </>
  );
}

interface Delivery {
  deliveryId: string;
  event: string;
  attempt: number;
  outcome: string;
  status?: number;
  latencyMs: number;
  error?: string;
  at: string;
  insightId?: string;
}

function Deliveries({ id }: { id: string }) {
  const list = useLoad(() => api<{ items: Delivery[] }>(`/v1/webhooks/${id}/deliveries?limit=50`), [id]);
  const { run, note } = useAction(list.reload);
  return (
    <div class="deliveries">
      <Failure error={list.error} />
      {list.data?.items.length === 0 && <p class="muted">No deliveries yet.</p>}
      <table>
        <tbody>
          {list.data?.items.map((d) => (
            <tr>
              <td>{when(d.at)}</td>
              <td>{d.event}</td>
              <td>
                {d.outcome} {d.status ?? ''} {d.error ?? ''}
              </td>
              <td>{d.latencyMs} ms</td>
              <td>
                {d.insightId && (
                  <button
                    type="button"
                    onClick={() =>
                      run('Redeliver', () =>
                        api(`/v1/webhooks/${id}/deliveries/${d.deliveryId}/redeliver`, { method: 'POST' }),
                      )
                    }
                  >
                    Redeliver
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {note}
    </div>
  );
}

const MATCH_FIELDS = [
  'accountId',
  'region',
  'eventSource',
  'eventName',
  'insightType',
  'errorCode',
  'userIdentityArn',
  'userAgent',
];

function MatchFields() {
  return (
    <>
      {MATCH_FIELDS.map((name) => (
        <Field name={name} label={name} placeholder="* for any part" />
      ))}
    </>
  );
}

function matchText(match: Record<string, string> | undefined): string {
  return Object.entries(match ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

interface Rule {
  id: string;
  match?: Record<string, string>;
  reason: string;
  expiresAt?: string;
  expired?: boolean;
  from?: string;
  to?: string;
  rrule?: string;
  cron?: string;
  durationMinutes?: number;
  timeZone?: string;
  openNow?: boolean;
  createdBy: string;
}

function Suppressions({ admin }: { admin: boolean }) {
  const list = useLoad(() => api<{ items: Rule[] }>('/v1/suppressions'), []);
  const { run, note } = useAction(list.reload);
  return (
    <>
      <Failure error={list.error} />
      <RuleTable
        rules={list.data?.items}
        describe={(r) => `${r.expiresAt ? `until ${when(r.expiresAt)}` : 'no expiry'}${r.expired ? ' (expired)' : ''}`}
        onDelete={admin ? (r) => run('Delete', () => api(`/v1/suppressions/${r.id}`, { method: 'DELETE' })) : undefined}
      />
      {note}
      {admin && (
        <CreateForm
          title="Add suppression"
          onSubmit={(values, form) =>
            void run('Add suppression', async () => {
              await api('/v1/suppressions', {
                method: 'POST',
                body: {
                  match: pick(values, MATCH_FIELDS),
                  reason: values.reason,
                  ...(values.expiresAt ? { expiresAt: new Date(values.expiresAt).toISOString() } : {}),
                },
              });
              form.reset();
            })
          }
        >
          <MatchFields />
          <Field name="reason" label="Reason" required />
          <Field name="expiresAt" label="Expires" type="datetime-local" />
        </CreateForm>
      )}
    </>
  );
}

function RuleTable({
  rules,
  describe,
  onDelete,
}: {
  rules?: Rule[];
  describe: (rule: Rule) => string;
  onDelete?: (rule: Rule) => void;
}) {
  if (rules?.length === 0) return <p class="muted">None.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Match</th>
          <th>Reason</th>
          <th>When</th>
          <th>By</th>
          {onDelete && <th>Actions</th>}
        </tr>
      </thead>
      <tbody>
        {rules?.map((rule) => (
          <tr key={rule.id}>
            <td>{matchText(rule.match) || 'everything'}</td>
            <td>{rule.reason}</td>
            <td>{describe(rule)}</td>
            <td>{rule.createdBy}</td>
            {onDelete && (
              <td>
                <button type="button" onClick={() => onDelete(rule)}>
                  Delete
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Windows({ admin }: { admin: boolean }) {
  const list = useLoad(() => api<{ items: Rule[] }>('/v1/maintenance-windows'), []);
  const { run, note } = useAction(list.reload);
  return (
    <>
      <Failure error={list.error} />
      <RuleTable
        rules={list.data?.items}
        describe={(w) =>
          `${w.from ? `${when(w.from)} → ${when(w.to)}` : `${w.rrule ?? w.cron} for ${w.durationMinutes} min${w.timeZone ? ` (${w.timeZone})` : ''}`}${w.openNow ? ' · open now' : ''}`
        }
        onDelete={
          admin ? (w) => run('Delete', () => api(`/v1/maintenance-windows/${w.id}`, { method: 'DELETE' })) : undefined
        }
      />
      {note}
      {admin && (
        <CreateForm
          title="Add window"
          onSubmit={(values, form) =>
            void run('Add window', async () => {
              const iso = (name: string) => (values[name] ? new Date(values[name]).toISOString() : undefined);
              await api('/v1/maintenance-windows', {
                method: 'POST',
                body: {
                  match: pick(values, ['accountId', 'region', 'eventSource', 'eventName']),
                  reason: values.reason,
                  from: iso('from'),
                  to: iso('to'),
                  ...pick(values, ['rrule', 'cron', 'timeZone']),
                  ...(values.durationMinutes ? { durationMinutes: Number(values.durationMinutes) } : {}),
                },
              });
              form.reset();
            })
          }
        >
          <Field name="accountId" label="accountId" />
          <Field name="region" label="region" />
          <Field name="eventSource" label="eventSource" />
          <Field name="eventName" label="eventName" />
          <Field name="reason" label="Reason" required />
          <Field name="from" label="From (one-off)" type="datetime-local" />
          <Field name="to" label="To (one-off)" type="datetime-local" />
          <Field name="rrule" label="RRULE (recurring)" placeholder="FREQ=WEEKLY;BYDAY=SA;BYHOUR=2" />
          <Field name="cron" label="or cron" placeholder="0 2 * * 6" />
          <Field name="durationMinutes" label="Minutes each" type="number" />
          <Field name="timeZone" label="Time zone" placeholder="Europe/Paris" />
        </CreateForm>
      )}
    </>
  );
}

interface TuningEntry {
  id: string;
  scope: Record<string, string>;
  settings: Record<string, number | boolean>;
  note?: string;
  updatedAt: string;
  updatedBy: string;
}

function Tuning({ admin }: { admin: boolean }) {
  const list = useLoad(
    () =>
      api<{ items: TuningEntry[]; boot: { scope: Record<string, string>; settings: Record<string, unknown> }[] }>(
        '/v1/tuning',
      ),
    [],
  );
  const { run, note } = useAction(list.reload);
  const settingsText = (s: Record<string, unknown>) =>
    Object.entries(s)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
  return (
    <>
      <Failure error={list.error} />
      {list.data?.boot.map((boot) => (
        <p class="muted">
          From the environment: {matchText(boot.scope) || 'everything'}: {settingsText(boot.settings)}
        </p>
      ))}
      <table>
        <thead>
          <tr>
            <th>Scope</th>
            <th>Settings</th>
            <th>Note</th>
            <th>Updated</th>
            {admin && <th>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((entry) => (
            <tr key={entry.id}>
              <td>{matchText(entry.scope) || 'everything'}</td>
              <td>{settingsText(entry.settings)}</td>
              <td>{entry.note}</td>
              <td>
                {when(entry.updatedAt)} by {entry.updatedBy}
              </td>
              {admin && (
                <td>
                  <button
                    type="button"
                    onClick={() => run('Delete', () => api(`/v1/tuning/${entry.id}`, { method: 'DELETE' }))}
                  >
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {note}
      {admin && (
        <CreateForm
          title="Add override"
          onSubmit={(values, form) =>
            void run('Add override', async () => {
              const settings: Record<string, number | boolean> = {};
              for (const name of ['sensitivity', 'minVolume', 'endAfterNormalMinutes'])
                if (values[name]) settings[name] = Number(values[name]);
              if (values.drops) settings.drops = values.drops === 'true';
              await api('/v1/tuning', {
                method: 'POST',
                body: {
                  scope: pick(values, ['accountId', 'region', 'eventSource', 'eventName']),
                  settings,
                  ...pick(values, ['note']),
                },
              });
              form.reset();
            })
          }
        >
          <Field name="accountId" label="accountId" />
          <Field name="region" label="region" />
          <Field name="eventSource" label="eventSource" />
          <Field name="eventName" label="eventName" />
          <Field name="sensitivity" label="Sensitivity" type="number" />
          <Field name="minVolume" label="Minimum volume" type="number" />
          <Field name="endAfterNormalMinutes" label="End after normal minutes" type="number" />
          <label>
            Drops
            <select name="drops">
              <option value="">default</option>
              <option value="true">report</option>
              <option value="false">ignore</option>
            </select>
          </label>
          <Field name="note" label="Note" />
        </CreateForm>
      )}
    </>
  );
}

function Keys({ admin }: { admin: boolean }) {
  const list = useLoad(
    () =>
      api<{ items: { id: string; scope: string; source: string; createdAt?: string; lastUsedAt?: string }[] }>(
        '/v1/keys',
      ),
    [],
  );
  const { run, note } = useAction(list.reload);
  return (
    <>
      <Failure error={list.error} />
      <table>
        <thead>
          <tr>
            <th>Id</th>
            <th>Scope</th>
            <th>Source</th>
            <th>Created</th>
            <th>Last used</th>
            {admin && <th>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((key) => (
            <tr key={key.id}>
              <td>{key.id}</td>
              <td>{key.scope}</td>
              <td>{key.source}</td>
              <td>{when(key.createdAt)}</td>
              <td>{when(key.lastUsedAt)}</td>
              {admin && (
                <td>
                  {key.source === 'redis' && (
                    <button
                      type="button"
                      onClick={() => run('Revoke', () => api(`/v1/keys/${key.id}`, { method: 'DELETE' }))}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {note}
      {admin && (
        <CreateForm
          title="Create key"
          onSubmit={(values) =>
            void run('Create key', async () => {
              const created = await api<{ id: string; key: string }>('/v1/keys', {
                method: 'POST',
                body: { scope: values.scope },
              });
              return `(id ${created.id}; the key, shown once: ${created.key})`;
            })
          }
        >
          <label>
            Scope
            <select name="scope">
              <option value="read">read</option>
              <option value="admin">admin</option>
            </select>
          </label>
        </CreateForm>
      )}
    </>
  );
}
