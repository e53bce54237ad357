// jwtserver.mjs: a Streamable HTTP MCP server, built on the official SDK
// (McpServer and StreamableHTTPServerTransport on node:http or
// node:https, a session each), that checks the JWT the gateway sends
// and says what it got, for the tests of HTTP apps' identity.
//
// usage: node jwtserver.mjs --jwks FILE [--port N] [--aud URL] [--iss NAME]
//            [--cert PEM --key PEM] [--log FILE] [--path /mcp]
//
// It listens on 127.0.0.1, port N (0, the default, lets the kernel pick),
// and prints the port it got, alone on a line, on stdout.
//
// Every request must carry "Authorization: Bearer JWT", a JWT signed with
// EdDSA by a key of the JWKS in FILE (the output of `mcpgatectl jwks`,
// read again at each request, so that a rotation needs no restart), the
// key picked by the JWT's kid, with nbf and iat not in the future, exp
// not past, and, when given, iss NAME and aud URL; otherwise the answer
// is 401 with the reason, and the request goes no further. --log appends
// one JSON line per request: method, path, session, every header as
// received (names lower-cased, repeated ones kept apart), the JWT's
// verdict, and for a POST each message's method, id and tool name.
//
// Its tools:
//   whoami          the JWT's verdict, header and claims, the headers of
//                   this request, and every request of the session so far,
//                   as JSON text;
//   echo            {message} back;
//   get-env         says it was reached (a tool for a role to deny);
//   forget-session  the server forgets the session: each later request
//                   with its id is answered 404, as by a server that
//                   restarted.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import process from 'node:process';

const USAGE = 'usage: node jwtserver.mjs --jwks FILE [--port N] [--aud URL] [--iss NAME]\n' +
    '           [--cert PEM --key PEM] [--log FILE] [--path /mcp]\n';
const MAX_BODY = 4 * 1024 * 1024;
const MAX_RECORDS = 64;

function usage(msg) {
    process.stderr.write(`jwtserver: ${msg}\n${USAGE}`);
    process.exit(2);
}

const opts = { port: 0, jwks: null, aud: null, iss: null, cert: null, key: null, log: null, path: '/mcp' };
{
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i].replace(/^--/, '');
        if (!(k in opts) || !argv[i].startsWith('--'))
            usage(`unknown option: ${argv[i]}`);
        if (i + 1 >= argv.length)
            usage(`${argv[i]} needs a value`);
        opts[k] = argv[++i];
    }
    if (opts.jwks === null)
        usage('--jwks is required');
    if ((opts.cert === null) !== (opts.key === null))
        usage('--cert and --key go together');
    opts.port = Number(opts.port);
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
        usage('bad --port');
}

const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = await import('zod');

// ---------------------------------------------------------------- JWT

function b64url(s) {
    return Buffer.from(s, 'base64url');
}

// verify(header value): { valid, reason, kid, header, claims }
function verify(authorization) {
    const out = { valid: false, reason: null, kid: null, header: null, claims: null };
    if (authorization === undefined) {
        out.reason = 'no Authorization header';
        return out;
    }
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(authorization);
    if (m === null) {
        out.reason = 'Authorization is not "Bearer" and a JWT';
        return out;
    }
    try {
        out.header = JSON.parse(b64url(m[1]).toString('utf8'));
        out.claims = JSON.parse(b64url(m[2]).toString('utf8'));
    } catch {
        out.reason = 'the JWT\'s header or claims are not JSON';
        return out;
    }
    out.kid = out.header.kid ?? null;
    if (out.header.alg !== 'EdDSA') {
        out.reason = `alg ${out.header.alg}, not EdDSA`;
        return out;
    }
    let jwks;
    try {
        jwks = JSON.parse(fs.readFileSync(opts.jwks, 'utf8'));
    } catch (e) {
        out.reason = `cannot read the JWKS: ${e.message}`;
        return out;
    }
    const jwk = (jwks.keys ?? []).find(k => k.kid === out.kid);
    if (jwk === undefined) {
        out.reason = `no key of kid ${out.kid} in the JWKS`;
        return out;
    }
    let key;
    try {
        key = crypto.createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
    } catch (e) {
        out.reason = `the JWKS key is not usable: ${e.message}`;
        return out;
    }
    if (!crypto.verify(null, Buffer.from(`${m[1]}.${m[2]}`), key, b64url(m[3]))) {
        out.reason = 'bad signature';
        return out;
    }
    const now = Math.floor(Date.now() / 1000);
    const c = out.claims;
    if (typeof c.exp !== 'number' || c.exp <= now)
        out.reason = `exp ${c.exp} is not after now (${now})`;
    else if (typeof c.nbf !== 'number' || c.nbf > now)
        out.reason = `nbf ${c.nbf} is not before now (${now})`;
    else if (typeof c.iat !== 'number' || c.iat > now)
        out.reason = `iat ${c.iat} is in the future (${now})`;
    else if (opts.iss !== null && c.iss !== opts.iss)
        out.reason = `iss ${c.iss}, not ${opts.iss}`;
    else if (opts.aud !== null && c.aud !== opts.aud)
        out.reason = `aud ${JSON.stringify(c.aud)}, not ${opts.aud}`;
    else
        out.valid = true;
    return out;
}

// ---------------------------------------------------------------- records

// Headers as received: names lower-cased, a header sent twice twice.
function rawHeaders(req) {
    const h = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        h.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
    return h;
}

function log(rec) {
    if (opts.log !== null)
        fs.appendFileSync(opts.log, JSON.stringify(rec) + '\n');
}

// ---------------------------------------------------------------- MCP

const sessions = new Map();	// session id -> { transport, requests[] }

function newServer(session) {
    const server = new McpServer({ name: 'mcpgate-jwtserver', version: '1.0.0' });
    server.registerTool('whoami', {
        description: 'The JWT and headers this server got',
    }, async extra => {
        const headers = extra.requestInfo?.headers ?? {};
        const body = {
            now: Math.floor(Date.now() / 1000),
            jwt: verify(headers.authorization),
            authorization: headers.authorization ?? null,
            headers,
            requests: session.requests,
        };
        return { content: [{ type: 'text', text: JSON.stringify(body) }] };
    });
    server.registerTool('echo', {
        description: 'Echoes the message',
        inputSchema: { message: z.string() },
    }, async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));
    // A tool for the roles to deny: reaching it is the gateway's failure.
    server.registerTool('get-env', {
        description: 'Says that it was reached',
    }, async () => ({ content: [{ type: 'text', text: 'get-env reached the server' }] }));
    server.registerTool('forget-session', {
        description: 'Forgets this session: its later requests get 404',
    }, async extra => {
        // After this answer, which goes on the request's own stream.
        const id = extra.sessionId;
        setImmediate(() => sessions.delete(id));
        return { content: [{ type: 'text', text: 'forgotten' }] };
    });
    return server;
}

function deny(res, status, message) {
    const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message } });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
}

async function readBody(req) {
    const chunks = [];
    let n = 0;
    for await (const c of req) {
        n += c.length;
        if (n > MAX_BODY)
            throw new Error('body too large');
        chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
}

// What a POST carried: each message's method, id and tool.
function rpcs(body) {
    return (Array.isArray(body) ? body : [body]).map(m => ({
        method: m?.method ?? null,
        id: m?.id ?? null,
        tool: m?.method === 'tools/call' ? m.params?.name ?? null : null,
    }));
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://x');
    const sid = req.headers['mcp-session-id'];
    const auth = verify(req.headers.authorization);
    let body;
    let bad = null;
    if (req.method === 'POST') {
        try {
            body = JSON.parse(await readBody(req));
        } catch (e) {
            bad = e.message;
        }
    }
    const rec = {
        method: req.method,
        path: url.pathname + url.search,
        session: sid ?? null,
        headers: rawHeaders(req),
        jwt: { valid: auth.valid, reason: auth.reason, kid: auth.kid },
        rpc: body !== undefined ? rpcs(body) : [],
    };
    log(rec);
    if (url.pathname !== opts.path)
        return deny(res, 404, `no MCP endpoint at ${url.pathname}`);
    if (!auth.valid)
        return deny(res, 401, `JWT refused: ${auth.reason}`);
    if (bad !== null)
        return deny(res, 400, `bad body: ${bad}`);

    let s;
    if (sid !== undefined) {
        s = sessions.get(sid);
        if (s === undefined)
            return deny(res, 404, 'Session not found');
    }
    if (s === undefined) {
        if (req.method !== 'POST' || body?.method !== 'initialize')
            return deny(res, 400, 'no session: initialize first');
        const session = { transport: null, requests: [rec] };
        const transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => crypto.randomUUID(),
            onsessioninitialized: id => sessions.set(id, session),
            onsessionclosed: id => sessions.delete(id),
        });
        session.transport = transport;
        await newServer(session).connect(transport);
        return transport.handleRequest(req, res, body);
    }
    s.requests.push(rec);
    if (s.requests.length > MAX_RECORDS)
        s.requests.splice(1, 1);
    return s.transport.handleRequest(req, res, body);
}

const onRequest = (req, res) => handle(req, res).catch(e => {
    process.stderr.write(`jwtserver: ${e.stack ?? e}\n`);
    if (!res.headersSent)
        deny(res, 500, 'internal error');
    else
        res.destroy();
});
const srv = opts.cert !== null ?
    https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) }, onRequest) :
    http.createServer(onRequest);
srv.on('error', e => {
    process.stderr.write(`jwtserver: ${e.message}\n`);
    process.exit(1);
});
srv.listen({ port: opts.port, host: '127.0.0.1' }, () => {
    process.stdout.write(`${srv.address().port}\n`);
});
