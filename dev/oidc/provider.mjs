// A real OpenID provider on loopback for `cargo xtask dev --auth` and the
// token tests: npm `oidc-provider` (OpenID Certified), configured here with
// one public client for the page (authorization code + PKCE), signing keys
// generated at start (RS256 and ES256; nothing is written to disk), two test
// users in different groups, and a minimal sign-in form.
//
// The page speaks Cognito's hosted-UI paths (`/oauth2/authorize`,
// `/oauth2/token`, `/logout?client_id=&logout_uri=`), so the provider's
// routes are named like those and `logout_uri` is passed on as OpenID's
// `post_logout_redirect_uri`.
//
//   node dev/oidc/provider.mjs --port PORT --node-modules DIR
//        --client-id ID --redirect-uri URI [--redirect-uri URI ...]
//        [--post-logout-uri URI ...] [--test-clients] [--id-token-ttl SECONDS]
//
// --test-clients adds clients the token tests need: `marshal-cli` (id
// tokens signed ES256), `other-app` (an audience the API does not accept)
// and `short-lived` (id tokens that expire after 2 seconds).
//
// It prints `oidc-provider listening on ISSUER` once it accepts requests.
// Tokens are never printed or logged.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'node-modules': { type: 'string' },
    'client-id': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-uri': { type: 'string', multiple: true, default: [] },
    'test-clients': { type: 'boolean', default: false },
    'id-token-ttl': { type: 'string', default: '3600' },
  },
});
for (const name of ['port', 'node-modules', 'client-id', 'redirect-uri']) {
  if (!args[name]) {
    console.error(`provider.mjs: --${name} is required`);
    process.exit(2);
  }
}

// oidc-provider is an ES module installed outside the work tree
// (`cargo xtask install`); import it by path, as NODE_PATH does not apply.
const packageDir = join(args['node-modules'], 'oidc-provider');
const { main } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const { default: Provider } = await import(pathToFileURL(join(packageDir, main)).href);

const port = Number(args.port);
const issuer = `http://127.0.0.1:${port}`;

// The test users. Their passwords are printed by `cargo xtask dev --auth`.
export const USERS = {
  alice: { password: 'alice-pass', groups: ['factory-a'], email: 'alice@factory-a.example' },
  bob: { password: 'bob-pass', groups: ['factory-b'], email: 'bob@factory-b.example' },
};

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${randomUUID()}`, alg, use: 'sig' };
}

const publicClient = (clientId, extra = {}) => ({
  client_id: clientId,
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: args['redirect-uri'],
  post_logout_redirect_uris: args['post-logout-uri'],
  id_token_signed_response_alg: 'RS256',
  ...extra,
});

const clients = [publicClient(args['client-id'])];
if (args['test-clients']) {
  clients.push(
    publicClient('marshal-cli', { id_token_signed_response_alg: 'ES256' }),
    publicClient('other-app'),
    publicClient('short-lived'),
  );
}
const idTokenTtl = Number(args['id-token-ttl']);

const provider = new Provider(issuer, {
  clients,
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  routes: {
    authorization: '/oauth2/authorize',
    token: '/oauth2/token',
    end_session: '/logout',
    jwks: '/.well-known/jwks.json',
  },
  pkce: { required: () => true },
  // Group and name claims go into the id token, which the page sends to
  // the API (as with Cognito), not only to userinfo.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'groups'],
  },
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: user.email,
          email_verified: true,
          name: id,
          preferred_username: id,
          groups: user.groups,
        };
      },
    };
  },
  // The page and the test clients are first-party: signing in is consent.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Cognito's /logout ends the session without asking; so does this,
      // by confirming its own form.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signing out</title></head>
<body><p>Signing out…</p>${form}<script>
const f = document.getElementById('op.logoutForm');
const yes = document.createElement('input'); yes.type = 'hidden'; yes.name = 'logout'; yes.value = 'yes';
f.appendChild(yes); f.submit();
</script></body></html>`;
      },
    },
  },
  ttl: {
    IdToken: (ctx, token, client) => (client.clientId === 'short-lived' ? 2 : idTokenTtl),
    AccessToken: 3600,
    Session: 8 * 3600,
    Interaction: 600,
    Grant: 8 * 3600,
  },
  clientBasedCORS: (ctx, origin, client) =>
    client.redirectUris.some((uri) => new URL(uri).origin === origin),
});
// Loopback over plain HTTP: no proxy in front.
provider.proxy = false;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, problem) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in to Marshal (local)</title></head>
<body>
<main>
<h1>Sign in to Marshal (local test provider)</h1>
${problem ? `<p id="login-problem" role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button id="login" type="submit">Sign in</button></p>
</form>
<p>Test users: alice (group factory-a), bob (group factory-b).</p>
</main>
</body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

// The sign-in interaction: a form for the test users' names and passwords.
async function interaction(req, res, url) {
  const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return send(res, 404, 'not found');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== match[1]) return send(res, 400, 'this sign-in is not the current one');
  if (!match[2]) return send(res, 200, loginPage(details.uid));
  if (req.method !== 'POST') return send(res, 405, 'POST the form');
  const form = await readForm(req);
  const name = form.get('username') || '';
  const user = Object.hasOwn(USERS, name) ? USERS[name] : undefined;
  if (!user || form.get('password') !== user.password) {
    return send(res, 200, loginPage(details.uid, 'Unknown user or wrong password.'));
  }
  await provider.interactionFinished(req, res, { login: { accountId: name } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  // Browsers ask for one on every page; a 404 would be a console error.
  if (url.pathname === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((err) => {
      console.error(`interaction failed: ${err.message}`);
      if (!res.headersSent) send(res, 400, escape(err.message));
    });
    return;
  }
  // Cognito's sign-out parameter, in OpenID's words.
  if (url.pathname === '/logout' && url.searchParams.has('logout_uri')) {
    url.searchParams.set('post_logout_redirect_uri', url.searchParams.get('logout_uri'));
    url.searchParams.delete('logout_uri');
    req.url = url.pathname + url.search;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
