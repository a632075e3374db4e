// The minime SDK: `client.api` is the client generated from the OpenAPI document (every path,
// typed); the rest is what generation cannot know — signing in (bearer tokens or cookies with
// CSRF), refreshing tokens once at a time even across tabs, typed problem errors, cursor
// iteration and Idempotency-Key on retried writes.
import createFetchClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Schemas = components["schemas"];
/** A problem document; `about:blank` (RFC 9457's default type) when the answer was not one, e.g.
 * from a proxy in front of the server. */
export type Problem = Omit<Schemas["Problem"], "type"> & { type: Schemas["Problem"]["type"] | "about:blank" };

/** An RFC 9457 problem answered by the API; `type` is stable, switch on it. */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.status} ${problem.type}: ${problem.detail}`);
    this.name = "ProblemError";
    this.status = problem.status;
    this.type = problem.type;
    this.problem = problem;
  }
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface ClientOptions {
  baseUrl: string;
  /** `bearer` (default: tokens held by the client) or `cookie` (HttpOnly cookies + CSRF header). */
  mode?: "bearer" | "cookie";
  /** A signed-in session, or a personal access token (`mm_pat_...`) as `accessToken` alone. */
  tokens?: Partial<Tokens>;
  /** Called whenever tokens change (sign-in, refresh), e.g. to keep them across reloads. */
  onTokens?: (tokens: Tokens | null) => void;
  fetch?: typeof fetch;
  /** Retries of a write that failed on the network or with 503 (same Idempotency-Key). */
  retries?: number;
}

interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

const UNSAFE = new Set(["POST", "PATCH", "PUT", "DELETE"]);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` while holding a lock shared by every tab of this origin, where browsers have one. */
async function exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: { request: (n: string, f: () => Promise<T>) => Promise<T> } } })
    .navigator?.locks;
  return locks ? locks.request(name, work) : work();
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/$/, "");
  const cookieMode = options.mode === "cookie";
  const rawFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = options.retries ?? 2;
  let access = options.tokens?.accessToken;
  let refresh = options.tokens?.refreshToken;
  let csrf: string | undefined;
  let refreshing: Promise<boolean> | null = null;

  function setTokens(tokens: Tokens | null): void {
    access = tokens?.accessToken;
    refresh = tokens?.refreshToken;
    options.onTokens?.(tokens);
  }

  function readCsrfCookie(): string | undefined {
    const doc = (globalThis as { document?: { cookie?: string } }).document;
    // Served over https the cookie carries the __Host- prefix.
    const cookie = doc?.cookie
      ?.split("; ")
      .find((c) => c.startsWith("minime_csrf=") || c.startsWith("__Host-minime_csrf="));
    return cookie?.slice(cookie.indexOf("=") + 1);
  }

  /** One refresh at a time: concurrent 401s wait for the same one. */
  function refreshOnce(usedAccess: string | undefined): Promise<boolean> {
    if (access !== usedAccess) return Promise.resolve(true); // someone already refreshed
    if (!refreshing) {
      refreshing = exclusive("minime-refresh", async () => {
        try {
          const res = await rawFetch(`${base}/v1/auth/refresh`, {
            method: "POST",
            headers: { "content-type": "application/json", ...(csrf ? { "x-csrf-token": csrf } : {}) },
            body: JSON.stringify(cookieMode ? {} : { refresh_token: refresh }),
            credentials: cookieMode ? "include" : "same-origin",
          });
          if (!res.ok) {
            setTokens(null);
            return false;
          }
          const body = (await res.json()) as { access_token?: string; refresh_token?: string; csrf_token?: string };
          if (cookieMode) csrf = body.csrf_token ?? csrf;
          else if (body.access_token && body.refresh_token)
            setTokens({ accessToken: body.access_token, refreshToken: body.refresh_token });
          return true;
        } finally {
          refreshing = null;
        }
      });
    }
    return refreshing;
  }

  /** The fetch every request goes through: credentials, refresh on 401, safe retries of writes. */
  async function apiFetch(input: Request): Promise<Response> {
    const method = input.method.toUpperCase();
    if (UNSAFE.has(method) && !input.headers.has("idempotency-key") && method === "POST") {
      input.headers.set("idempotency-key", crypto.randomUUID());
    }
    const template = input.clone();
    const attempt = async (): Promise<Response> => {
      const req = template.clone();
      const usedAccess = access;
      if (!cookieMode && access) req.headers.set("authorization", `Bearer ${access}`);
      if (cookieMode && UNSAFE.has(method)) {
        const token = csrf ?? readCsrfCookie();
        if (token) req.headers.set("x-csrf-token", token);
      }
      let res = await rawFetch(req);
      const canRefresh = cookieMode || (refresh && !access?.startsWith("mm_pat_"));
      if (res.status === 401 && canRefresh && !req.url.includes("/v1/auth/")) {
        if (await refreshOnce(usedAccess)) {
          const again = template.clone();
          if (!cookieMode && access) again.headers.set("authorization", `Bearer ${access}`);
          if (cookieMode && UNSAFE.has(method) && csrf) again.headers.set("x-csrf-token", csrf);
          res = await rawFetch(again);
        }
      }
      return res;
    };
    // Writes carry an Idempotency-Key, so a retry after a lost answer cannot apply twice.
    for (let n = 0; ; n++) {
      try {
        const res = await attempt();
        if (res.status === 503 && n < retries && (!UNSAFE.has(method) || template.headers.has("idempotency-key"))) {
          await sleep(200 * 2 ** n);
          continue;
        }
        return res;
      } catch (error) {
        if (n >= retries || (UNSAFE.has(method) && !template.headers.has("idempotency-key"))) throw error;
        await sleep(200 * 2 ** n);
      }
    }
  }

  const api = createFetchClient<paths>({
    baseUrl: base,
    fetch: apiFetch,
    credentials: cookieMode ? "include" : "same-origin",
  });

  /** The data of a generated call, or its problem thrown as a `ProblemError`. */
  async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (error !== undefined || !response.ok) {
      const problem = (error ?? {}) as Partial<Problem>;
      throw new ProblemError({
        type: problem.type ?? "about:blank",
        title: problem.title ?? response.statusText,
        status: problem.status ?? response.status,
        detail: problem.detail ?? response.statusText,
        errors: problem.errors,
        request_id: problem.request_id ?? response.headers.get("x-request-id"),
      });
    }
    return data as T;
  }

  async function json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await apiFetch(
      new Request(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: cookieMode ? "include" : "same-origin",
      }),
    );
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ProblemError(parsed as Problem);
    return parsed as T;
  }

  /** Keeps the session a sign-in answered with (nothing, for a challenge step). */
  function adopt(body: unknown): void {
    const b = body as { access_token?: string | null; refresh_token?: string | null; csrf_token?: string | null };
    if (cookieMode) csrf = b.csrf_token ?? csrf;
    else if (b.access_token && b.refresh_token) setTokens({ accessToken: b.access_token, refreshToken: b.refresh_token });
  }

  /** CRUD and cursor iteration over one collection, typed by its schemas. */
  function collection<Item extends { id: string; version: number }, Input, Filter extends Record<string, string | number | boolean> = Record<string, string | number | boolean>>(path: string) {
    return {
      /** Every row matching `filter`, page after page: `for await (const t of client.tasks.list())`. */
      async *list(filter?: Partial<Filter> & { limit?: number }): AsyncGenerator<Item> {
        let cursor: string | null | undefined;
        do {
          const query = new URLSearchParams();
          for (const [k, v] of Object.entries(filter ?? {})) if (v !== undefined) query.set(k, String(v));
          if (cursor) query.set("cursor", cursor);
          const page = await json<Page<Item>>("GET", `${path}?${query}`);
          yield* page.items;
          cursor = page.next_cursor;
        } while (cursor);
      },
      get: (id: string) => json<Item>("GET", `${path}/${id}`),
      create: (input: Input, opts?: { idempotencyKey?: string }) =>
        json<Item>("POST", path, input, opts?.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {}),
      /** A merge patch; pass the version you saw to refuse lost updates (412). */
      update: (id: string, patch: Partial<Input>, opts?: { ifMatch?: number }) =>
        json<Item>("PATCH", `${path}/${id}`, patch, opts?.ifMatch !== undefined ? { "if-match": `"${opts.ifMatch}"` } : {}),
      delete: (id: string, opts?: { ifMatch?: number }) =>
        json<void>("DELETE", `${path}/${id}`, undefined, opts?.ifMatch !== undefined ? { "if-match": `"${opts.ifMatch}"` } : {}),
    };
  }

  return {
    /** Every operation of the API, typed from the OpenAPI document (openapi-fetch). */
    api,
    unwrap,
    get tokens(): Partial<Tokens> {
      return { accessToken: access, refreshToken: refresh };
    },
    auth: {
      signUp: (email: string, password: string) =>
        unwrap(api.POST("/v1/auth/signup", { body: { email, password } })),
      verifyEmail: (token: string) => unwrap(api.POST("/v1/auth/verify-email", { body: { token } })),
      /**
       * Signs in with a password. An account with a second factor answers `mfa_required` with an
       * `mfa_token` instead of a session: finish with `completeMfa`.
       */
      async signIn(email: string, password: string) {
        const body = await unwrap(
          api.POST("/v1/auth/signin", { body: { email, password, mode: cookieMode ? "cookie" : "token" } }),
        );
        adopt(body);
        return body;
      },
      /** The second step of a password sign-in: a code, a recovery code or a passkey's answer. */
      async completeMfa(
        mfaToken: string,
        proof: { code: string } | { recovery_code: string } | { passkey: Record<string, unknown> },
      ) {
        // The document types a passkey's answer as an opaque object.
        const answer = proof as { code?: string; recovery_code?: string; passkey?: Record<string, never> };
        const body = await unwrap(api.POST("/v1/auth/signin/mfa", { body: { mfa_token: mfaToken, ...answer } }));
        adopt(body);
        return body;
      },
      /** Signs in with a passkey's answer (`PublicKeyCredential.toJSON()`) to the options of `token`. */
      async signInWithPasskey(token: string, credential: Record<string, unknown>) {
        const body = await unwrap(
          api.POST("/v1/auth/passkey/signin", {
            body: { token, credential: credential as Record<string, never>, mode: cookieMode ? "cookie" : "token" },
          }),
        );
        adopt(body);
        return body;
      },
      async signOut() {
        await unwrap(api.POST("/v1/auth/signout", {}));
        setTokens(null);
        csrf = undefined;
      },
    },
    me: () => unwrap(api.GET("/v1/me")),
    today: () => unwrap(api.GET("/v1/today")),
    tasks: collection<Schemas["Task"], Schemas["TaskInput"]>("/v1/tasks"),
    projects: collection<Schemas["Project"], Schemas["ProjectInput"]>("/v1/projects"),
    areas: collection<Schemas["Area"], Schemas["AreaInput"]>("/v1/areas"),
    goals: collection<Schemas["Goal"], Schemas["GoalInput"]>("/v1/goals"),
    captures: collection<Schemas["Capture"], Schemas["CaptureInput"]>("/v1/captures"),
  };
}

export type Client = ReturnType<typeof createClient>;
