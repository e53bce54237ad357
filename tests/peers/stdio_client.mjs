// stdio_client.mjs: an MCP client built on the official TypeScript SDK
// (Client + StdioClientTransport) that spawns the command given after its
// options, so that the same checks run against a stdio server directly and
// through `mcpgate mcp connect NAME`. It declares the roots, sampling and
// elicitation capabilities and answers them: roots/list with the --root
// directory, sampling/createMessage with a fixed reply, elicitation/create
// by accepting with content. It prints one line per check:
//
//   PASS <name>: <what>
//   FAIL <name>: <what>: <why>
//
// where <name> is --name (default: the suite). Suites: everything
// (@modelcontextprotocol/server-everything), filesystem (server-filesystem,
// started without directories so that only the client's roots count),
// memory (server-memory), basic (initialize, tools/list, ping, close only).
//
// The exit status is 0 whatever the checks found (the runner counts the
// lines), 1 on the global timeout, 2 on a usage error or a crash of this
// script. Works on Node 18 and later.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const USAGE = 'usage: node stdio_client.mjs --suite everything|filesystem|memory|basic\n' +
    '           [--name NAME] [--root DIR] [--transcript FILE]\n' +
    '           [--expect-denied TOOL]... [--env NAME=VALUE]...\n' +
    '           [--timeout SECONDS] [--] COMMAND [ARG]...\n' +
    'COMMAND runs with the SDK\'s default environment (HOME, LOGNAME, PATH,\n' +
    'SHELL, TERM, USER), the MCPGATE_* and sanitizer variables of this one,\n' +
    'and each --env. --transcript writes every line the client receives from\n' +
    'COMMAND, verbatim, one JSON-RPC message a line.\n';

const REQUEST_TIMEOUT_MS = 15000;
const CLOSE_TIMEOUT_MS = 5000;
const CLIENT_NAME = 'mcpgate-stdio-client';
const CLIENT_VERSION = '1.0.0';
const SAMPLING_REPLY = 'mcpgate-sampling-reply: 42 \u2713';
const SAMPLING_MODEL = 'mcpgate-test-model';
const ELICIT_CONTENT = {
    name: 'Ada Lovelace \u00e9',
    check: true,
    email: 'ada@example.org',
    integer: 7,
    number: 2.5,
};

// ---------------------------------------------------------------- output

let prefix = 'client';
let nfail = 0;

function oneLine(s) {
    return String(s).replace(/\s+/g, ' ').trim().slice(0, 400);
}

function pass(what) {
    process.stdout.write(`PASS ${prefix}: ${what}\n`);
}

function fail(what, why) {
    nfail++;
    process.stdout.write(`FAIL ${prefix}: ${what}: ${oneLine(why)}\n`);
}

function check(what, ok, why) {
    if (ok)
        pass(what);
    else
        fail(what, why);
    return ok;
}

function note(msg) {
    process.stderr.write(`stdio_client: ${msg}\n`);
}

function errText(e) {
    if (e === undefined || e === null)
        return String(e);
    if (e instanceof Error)
        return e.message || String(e);
    return String(e);
}

// ---------------------------------------------------------------- arguments

function usageError(msg) {
    process.stderr.write(`stdio_client: ${msg}\n${USAGE}`);
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {
        suite: null,
        name: null,
        root: null,
        transcript: null,
        expectDenied: [],
        env: {},
        timeout: 90,
        command: null,
        args: [],
    };
    let i = 0;
    for (; i < argv.length; i++) {
        let arg = argv[i];
        if (arg === '--') {
            i++;
            break;
        }
        if (!arg.startsWith('-'))
            break;
        if (arg === '-h' || arg === '--help') {
            process.stdout.write(USAGE);
            process.exit(0);
        }
        let value;
        const eq = arg.indexOf('=');
        if (arg.startsWith('--') && eq > 0) {
            value = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        }
        const known = ['--suite', '--name', '--root', '--transcript', '--expect-denied', '--env', '--timeout'];
        if (!known.includes(arg))
            usageError(`unknown option: ${arg}`);
        if (value === undefined) {
            if (i + 1 >= argv.length)
                usageError(`${arg} needs a value`);
            value = argv[++i];
        }
        switch (arg) {
        case '--suite':
            if (!['everything', 'filesystem', 'memory', 'basic'].includes(value))
                usageError(`unknown suite: ${value}`);
            opts.suite = value;
            break;
        case '--name':
            opts.name = value;
            break;
        case '--root':
            opts.root = path.resolve(value);
            break;
        case '--transcript':
            opts.transcript = value;
            break;
        case '--expect-denied':
            opts.expectDenied.push(...value.split(',').map(s => s.trim()).filter(s => s !== ''));
            break;
        case '--env': {
            const k = value.indexOf('=');
            if (k <= 0)
                usageError(`--env wants NAME=VALUE, not ${value}`);
            opts.env[value.slice(0, k)] = value.slice(k + 1);
            break;
        }
        case '--timeout':
            opts.timeout = Number(value);
            if (!Number.isFinite(opts.timeout) || opts.timeout <= 0 || opts.timeout > 3600)
                usageError(`bad --timeout: ${value}`);
            break;
        }
    }
    if (opts.suite === null)
        usageError('--suite is required');
    if (i >= argv.length)
        usageError('no command to run');
    opts.command = argv[i];
    opts.args = argv.slice(i + 1);
    if (opts.suite === 'filesystem' && opts.root === null)
        usageError('the filesystem suite needs --root');
    return opts;
}

// ---------------------------------------------------------------- helpers

function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

function texts(res) {
    if (!res || !Array.isArray(res.content))
        return '';
    return res.content.filter(c => c && c.type === 'text').map(c => c.text).join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    prefix = opts.name ?? opts.suite;

    let sdk;
    try {
        const [clientMod, stdioMod, typesMod] = await Promise.all([
            import('@modelcontextprotocol/sdk/client/index.js'),
            import('@modelcontextprotocol/sdk/client/stdio.js'),
            import('@modelcontextprotocol/sdk/types.js'),
        ]);
        sdk = { ...clientMod, ...stdioMod, ...typesMod };
    } catch (e) {
        fail('load the MCP SDK', `${errText(e)} (run: make peers)`);
        process.exit(2);
    }

    const env = { ...sdk.getDefaultEnvironment() };
    for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && (k.startsWith('MCPGATE_') || /^(ASAN|LSAN|UBSAN)_OPTIONS$/.test(k)))
            env[k] = v;
    Object.assign(env, opts.env);

    const transport = new sdk.StdioClientTransport({
        command: opts.command,
        args: opts.args,
        env,
        stderr: 'pipe',
    });
    let childStderr = '';
    transport.stderr?.on('data', chunk => {
        if (childStderr.length < 65536)
            childStderr += chunk.toString('utf8');
    });
    const lastStderr = () => {
        const lines = childStderr.split('\n').map(l => l.trim()).filter(l => l !== '');
        return lines.length ? ` (stderr: ${lines.slice(-3).join(' | ')})` : '';
    };

    // Every line from the command, verbatim: into the transcript and, parsed
    // on its own (the SDK's schemas may strip what they do not know), into
    // received[] for the checks. And every message the client sends.
    const received = [];
    const sent = [];
    let transcriptFd = null;
    if (opts.transcript !== null)
        transcriptFd = fs.openSync(opts.transcript, 'w', 0o644);
    let partial = Buffer.alloc(0);
    const onRaw = chunk => {
        partial = Buffer.concat([partial, chunk]);
        let nl;
        while ((nl = partial.indexOf(10)) !== -1) {
            const line = partial.subarray(0, nl);
            partial = partial.subarray(nl + 1);
            if (transcriptFd !== null)
                fs.writeSync(transcriptFd, Buffer.concat([line, Buffer.from('\n')]));
            try {
                received.push(JSON.parse(line.toString('utf8')));
            } catch {
                received.push({ unparsable: line.toString('utf8').slice(0, 200) });
            }
        }
    };
    let child = null;
    let childExit = null;
    const sdkStart = transport.start.bind(transport);
    transport.start = async () => {
        await sdkStart();
        const p = transport._process;
        if (p && p.stdout && typeof p.once === 'function') {
            child = p;
            p.stdout.on('data', onRaw);
            if (p.exitCode !== null || p.signalCode !== null)
                childExit = { code: p.exitCode, signal: p.signalCode };
            else
                p.once('exit', (code, signal) => { childExit = { code, signal }; });
        } else {
            note('cannot see the raw stream: the transcript holds re-serialised messages');
            const sdkOnMessage = transport.onmessage;
            transport.onmessage = m => {
                received.push(m);
                if (transcriptFd !== null)
                    fs.writeSync(transcriptFd, JSON.stringify(m) + '\n');
                sdkOnMessage?.(m);
            };
        }
    };
    const sdkSend = transport.send.bind(transport);
    transport.send = (message, options) => {
        sent.push(message);
        return sdkSend(message, options);
    };

    // Waits until a message received from index `from` on matches.
    const waitFor = async (pred, ms, from = 0) => {
        const deadline = Date.now() + ms;
        for (;;) {
            for (let i = from; i < received.length; i++)
                if (pred(received[i]))
                    return received[i];
            if (Date.now() >= deadline)
                return undefined;
            await sleep(20);
        }
    };

    const client = new sdk.Client({ name: CLIENT_NAME, version: CLIENT_VERSION }, {
        capabilities: {
            roots: { listChanged: true },
            sampling: {},
            elicitation: { form: {} },
        },
    });
    const sdkErrors = [];
    client.onerror = e => sdkErrors.push(errText(e));

    // The server-to-client requests, answered and recorded.
    let roots = opts.root !== null ? [{ uri: pathToFileURL(opts.root).href, name: 'mcpgate-test-root' }] : [];
    const rootsAsked = [];
    const samplingAsked = [];
    const elicitAsked = [];
    client.setRequestHandler(sdk.ListRootsRequestSchema, async req => {
        rootsAsked.push(req);
        return { roots };
    });
    client.setRequestHandler(sdk.CreateMessageRequestSchema, async req => {
        samplingAsked.push(req);
        return {
            model: SAMPLING_MODEL,
            role: 'assistant',
            content: { type: 'text', text: SAMPLING_REPLY },
            stopReason: 'endTurn',
        };
    });
    client.setRequestHandler(sdk.ElicitRequestSchema, async req => {
        elicitAsked.push(req);
        return { action: 'accept', content: { ...ELICIT_CONTENT } };
    });

    const watchdog = setTimeout(() => {
        fail('global timeout', `not done within ${opts.timeout} s${lastStderr()}`);
        if (transport.pid)
            try { process.kill(transport.pid, 'SIGKILL'); } catch { /* gone */ }
        process.exit(1);
    }, opts.timeout * 1000);

    const call = (name, args, extra = {}) =>
        client.callTool({ name, arguments: args }, undefined, { timeout: REQUEST_TIMEOUT_MS, ...extra });
    const T = { timeout: REQUEST_TIMEOUT_MS };

    // ------------------------------------------------------------ connect
    let connected = false;
    const t0 = Date.now();
    try {
        await withTimeout(client.connect(transport, T), REQUEST_TIMEOUT_MS + 1000, 'initialize');
        connected = true;
        pass(`initialize answered in ${Date.now() - t0} ms`);
    } catch (e) {
        await sleep(200);
        fail('initialize', errText(e) + lastStderr());
    }
    const info = client.getServerVersion();
    note(`server ${JSON.stringify(info)}, node ${process.version}`);

    // ------------------------------------------------------------ tools/list, all pages
    let tools = [];
    let listed = false;
    if (connected) {
        try {
            let cursor;
            let pages = 0;
            do {
                const res = await client.listTools(cursor === undefined ? undefined : { cursor }, T);
                tools = tools.concat(res.tools);
                cursor = res.nextCursor;
            } while (cursor !== undefined && ++pages < 100);
            listed = true;
            check('tools/list: at least one tool', tools.length > 0, 'the list is empty');
        } catch (e) {
            fail('tools/list', errText(e) + lastStderr());
        }
    }
    const names = tools.map(t => t.name);
    const expectListed = (what, wanted) => {
        const missing = wanted.filter(n => !names.includes(n));
        check(`tools/list: ${what}`, listed && missing.length === 0,
            listed ? `missing ${missing.join(', ')} in ${names.join(', ')}` : 'not listed');
    };

    // ------------------------------------------------------------ denied tools
    for (const tool of opts.expectDenied) {
        check(`tools/list: denied tool ${tool} is not listed`, listed && !names.includes(tool),
            listed ? 'it is in the list' : 'no list');
        const what = `tools/call ${tool} (denied): JSON-RPC error -32602 naming the tool`;
        const before = received.length;
        try {
            const res = await call(tool, {});
            fail(what, `the call was answered: ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            const problems = [];
            if (!(e instanceof sdk.McpError))
                problems.push(`not an McpError: ${errText(e)}`);
            else {
                if (e.code !== sdk.ErrorCode.InvalidParams)
                    problems.push(`code ${e.code}, not ${sdk.ErrorCode.InvalidParams}`);
                if (!String(e.message).includes(tool))
                    problems.push(`message does not name the tool: ${e.message}`);
            }
            const raw = received.slice(before).find(m => m && m.error && m.error.code === -32602);
            if (raw === undefined && problems.length === 0)
                problems.push('no raw error -32602 received');
            check(what, problems.length === 0, problems.join('; '));
        }
    }

    // ------------------------------------------------------------ suites
    if (connected) {
        try {
            if (opts.suite === 'everything')
                await suiteEverything();
            else if (opts.suite === 'filesystem')
                await suiteFilesystem();
            else if (opts.suite === 'memory')
                await suiteMemory();
        } catch (e) {
            fail(`${opts.suite} checks`, (e && e.stack ? e.stack : errText(e)) + lastStderr());
        }
    }

    async function suiteEverything() {
        expectListed('the reference tools', ['echo', 'get-sum', 'get-structured-content',
            'trigger-long-running-operation', 'toggle-simulated-logging', 'toggle-subscriber-updates']);
        expectListed('the tools for the client\'s roots, sampling and elicitation',
            ['get-roots-list', 'trigger-sampling-request', 'trigger-elicitation-request']);

        // Plain calls.
        const msg = `hello from mcpgate \u00e9\u2713 ${process.pid}`;
        try {
            const res = await call('echo', { message: msg });
            check('tools/call echo: the message comes back', texts(res) === `Echo: ${msg}`,
                `got ${JSON.stringify(res)}`);
        } catch (e) {
            fail('tools/call echo', errText(e));
        }
        try {
            const res = await call('get-sum', { a: 2, b: 40 });
            check('tools/call get-sum: 2 + 40 is 42', texts(res).includes('is 42'), `got ${texts(res)}`);
        } catch (e) {
            fail('tools/call get-sum', errText(e));
        }
        try {
            const res = await call('get-structured-content', { location: 'Chicago' });
            check('tools/call get-structured-content: structuredContent valid against the outputSchema',
                res.structuredContent && res.structuredContent.temperature === 36,
                `got ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            fail('tools/call get-structured-content', errText(e));
        }
        try {
            const res = await call('get-sum', { a: 'two', b: 2 });
            check('tools/call get-sum with a bad argument: an error, not a crash',
                res.isError === true, `got ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            check('tools/call get-sum with a bad argument: an error, not a crash',
                e instanceof sdk.McpError && e.code !== sdk.ErrorCode.ConnectionClosed &&
                e.code !== sdk.ErrorCode.RequestTimeout, errText(e));
        }

        // Roots: the server asks for them after notifications/initialized.
        if (opts.root !== null) {
            const asked = await waitFor(m => m && m.method === 'roots/list' && m.id !== undefined, 3000);
            check('roots/list: the server asked the client for its roots', asked !== undefined,
                'no roots/list request within 3 s');
            try {
                const res = await call('get-roots-list', {});
                check('tools/call get-roots-list: the server has the client\'s root',
                    texts(res).includes(roots[0].uri), `got ${oneLine(texts(res))}`);
            } catch (e) {
                fail('tools/call get-roots-list', errText(e));
            }
        }

        // Sampling: the tool makes the server ask the client for a message.
        {
            const prompt = `sample this ${process.pid}`;
            const n = samplingAsked.length;
            try {
                const res = await call('trigger-sampling-request', { prompt, maxTokens: 20 });
                const req = samplingAsked[n];
                check('sampling/createMessage: the server\'s request reached the client with the prompt',
                    req !== undefined && JSON.stringify(req.params.messages).includes(prompt) &&
                    req.params.maxTokens === 20,
                    req === undefined ? 'no sampling request' : `got ${JSON.stringify(req.params).slice(0, 200)}`);
                check('tools/call trigger-sampling-request: the client\'s reply is in the result',
                    texts(res).includes(SAMPLING_REPLY) && texts(res).includes(SAMPLING_MODEL),
                    `got ${oneLine(texts(res))}`);
            } catch (e) {
                fail('tools/call trigger-sampling-request', errText(e));
            }
        }

        // Elicitation: accepted with content.
        {
            const n = elicitAsked.length;
            try {
                const res = await call('trigger-elicitation-request', {});
                const req = elicitAsked[n];
                check('elicitation/create: the server\'s request reached the client with its schema',
                    req !== undefined && req.params.requestedSchema &&
                    req.params.requestedSchema.properties && req.params.requestedSchema.properties.name,
                    req === undefined ? 'no elicitation request' : `got ${JSON.stringify(req.params).slice(0, 200)}`);
                const t = texts(res);
                check('tools/call trigger-elicitation-request: the accepted content is in the result',
                    t.includes('User provided') && t.includes(ELICIT_CONTENT.name) &&
                    t.includes(ELICIT_CONTENT.email), `got ${oneLine(t)}`);
            } catch (e) {
                fail('tools/call trigger-elicitation-request', errText(e));
            }
        }

        // Progress: four steps, each a notification with our progressToken.
        {
            const progress = [];
            const before = sent.length;
            const rbefore = received.length;
            try {
                const res = await call('trigger-long-running-operation', { duration: 0.8, steps: 4 },
                    { onprogress: p => progress.push(p) });
                const req = sent.slice(before).find(m => m.method === 'tools/call');
                const token = req?.params?._meta?.progressToken;
                const raw = received.slice(rbefore).filter(m => m && m.method === 'notifications/progress');
                check('tools/call trigger-long-running-operation: completes',
                    texts(res).includes('completed'), `got ${oneLine(texts(res))}`);
                check('progress: four notifications/progress, 1 to 4 of 4, with the request\'s progressToken',
                    token !== undefined && raw.length === 4 &&
                    raw.every((m, i) => m.params.progressToken === token && m.params.progress === i + 1 &&
                        m.params.total === 4),
                    `token ${JSON.stringify(token)}, got ${JSON.stringify(raw.map(m => m.params))}`);
                // The SDK runs notification handlers a microtask late: the
                // last one may come after the answer, and is then dropped.
                check('progress: the SDK\'s onprogress called', progress.length >= 3,
                    `called ${progress.length} times`);
            } catch (e) {
                fail('tools/call trigger-long-running-operation', errText(e));
            }
        }

        // Cancellation: abort after the first progress; the SDK sends
        // notifications/cancelled, and the server must not answer the call.
        {
            const ac = new AbortController();
            const before = sent.length;
            const start = Date.now();
            let id;
            try {
                await call('trigger-long-running-operation', { duration: 1.6, steps: 4 }, {
                    signal: ac.signal,
                    onprogress: () => ac.abort('mcpgate test cancels'),
                });
                fail('cancellation: the call is aborted', 'the call completed');
            } catch (e) {
                const req = sent.slice(before).find(m => m.method === 'tools/call');
                id = req?.id;
                const cancel = sent.slice(before).find(m => m.method === 'notifications/cancelled');
                check('cancellation: notifications/cancelled sent for the call',
                    id !== undefined && cancel !== undefined && cancel.params.requestId === id,
                    `error ${errText(e)}, sent ${JSON.stringify(sent.slice(before)).slice(0, 300)}`);
            }
            // Past the operation's end, no answer to the cancelled id.
            await sleep(Math.max(0, 1600 + 600 - (Date.now() - start)));
            const answered = received.find(m => m && m.id === id && (m.result !== undefined || m.error !== undefined));
            check('cancellation: the server does not answer the cancelled call', id !== undefined && answered === undefined,
                `got ${JSON.stringify(answered)}`);
            try {
                const res = await call('echo', { message: 'after cancel' });
                check('cancellation: the session goes on', texts(res) === 'Echo: after cancel', `got ${texts(res)}`);
            } catch (e) {
                fail('cancellation: the session goes on', errText(e));
            }
        }

        // Resources.
        let resources = [];
        try {
            let cursor;
            let pages = 0;
            do {
                const res = await client.listResources(cursor === undefined ? undefined : { cursor }, T);
                resources = resources.concat(res.resources);
                cursor = res.nextCursor;
            } while (cursor !== undefined && ++pages < 100);
            check('resources/list: static resources listed', resources.length > 0, 'none');
        } catch (e) {
            fail('resources/list', errText(e));
        }
        try {
            const res = await client.listResourceTemplates(undefined, T);
            check('resources/templates/list: the dynamic text template is listed',
                res.resourceTemplates.some(t => t.uriTemplate === 'demo://resource/dynamic/text/{resourceId}'),
                `got ${JSON.stringify(res.resourceTemplates.map(t => t.uriTemplate))}`);
        } catch (e) {
            fail('resources/templates/list', errText(e));
        }
        if (resources.length > 0) {
            try {
                const res = await client.readResource({ uri: resources[0].uri }, T);
                check('resources/read: a listed resource', res.contents.length > 0 &&
                    res.contents[0].uri === resources[0].uri, `got ${JSON.stringify(res).slice(0, 200)}`);
            } catch (e) {
                fail('resources/read of a listed resource', errText(e));
            }
        }
        try {
            const res = await client.readResource({ uri: 'demo://resource/dynamic/text/3' }, T);
            check('resources/read: a resource from the template', res.contents.length === 1 &&
                String(res.contents[0].text).startsWith('Resource 3:'), `got ${JSON.stringify(res).slice(0, 200)}`);
        } catch (e) {
            fail('resources/read from the template', errText(e));
        }

        // Logging: at debug, subscribing logs at info before its answer;
        // at emergency, unsubscribing logs nothing.
        const uri = 'demo://resource/dynamic/text/1';
        try {
            await client.setLoggingLevel('debug', T);
            let from = received.length;
            await client.subscribeResource({ uri }, T);
            pass('resources/subscribe');
            const log = received.slice(from).find(m => m && m.method === 'notifications/message' &&
                JSON.stringify(m.params.data).includes(uri));
            check('logging/setLevel debug: the subscribe is logged (notifications/message, level info)',
                log !== undefined && log.params.level === 'info', `got ${JSON.stringify(log)}`);

            from = received.length;
            await call('toggle-subscriber-updates', {});
            const upd = await waitFor(m => m && m.method === 'notifications/resources/updated', 3000, from);
            check('notifications/resources/updated for the subscribed resource',
                upd !== undefined && upd.params.uri === uri, `got ${JSON.stringify(upd)}`);
            await call('toggle-subscriber-updates', {});

            from = received.length;
            await call('toggle-simulated-logging', {});
            const sim = await waitFor(m => m && m.method === 'notifications/message', 3000, from);
            check('logging: the simulated log message arrives', sim !== undefined &&
                typeof sim.params.level === 'string', 'none within 3 s');
            await call('toggle-simulated-logging', {});

            await client.setLoggingLevel('emergency', T);
            from = received.length;
            await client.unsubscribeResource({ uri }, T);
            pass('resources/unsubscribe');
            const quiet = received.slice(from).find(m => m && m.method === 'notifications/message' &&
                m.params.level !== 'emergency');
            check('logging/setLevel emergency: nothing below it is sent', quiet === undefined,
                `got ${JSON.stringify(quiet)}`);
        } catch (e) {
            fail('logging and subscriptions', errText(e));
        }

        // Prompts.
        try {
            const res = await client.listPrompts(undefined, T);
            const pn = res.prompts.map(p => p.name);
            check('prompts/list: simple-prompt, args-prompt and completable-prompt',
                ['simple-prompt', 'args-prompt', 'completable-prompt'].every(n => pn.includes(n)),
                `got ${pn.join(', ')}`);
            const got = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } }, T);
            check('prompts/get args-prompt: the arguments are in the message',
                JSON.stringify(got.messages).includes('Paris, TX'), `got ${JSON.stringify(got).slice(0, 200)}`);
        } catch (e) {
            fail('prompts', errText(e));
        }

        // Completions, of a prompt argument (with context) and a template.
        try {
            const ref = { type: 'ref/prompt', name: 'completable-prompt' };
            let res = await client.complete({ ref, argument: { name: 'department', value: 'Eng' } }, T);
            check('completion/complete: a prompt argument', JSON.stringify(res.completion.values) === '["Engineering"]',
                `got ${JSON.stringify(res.completion)}`);
            res = await client.complete({ ref, argument: { name: 'name', value: '' },
                context: { arguments: { department: 'Engineering' } } }, T);
            check('completion/complete: with context', JSON.stringify(res.completion.values) === '["Alice","Bob","Charlie"]',
                `got ${JSON.stringify(res.completion)}`);
            res = await client.complete({ ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' },
                argument: { name: 'resourceId', value: '7' } }, T);
            check('completion/complete: a resource template variable', JSON.stringify(res.completion.values) === '["7"]',
                `got ${JSON.stringify(res.completion)}`);
        } catch (e) {
            fail('completion/complete', errText(e));
        }
    }

    async function suiteFilesystem() {
        expectListed('the file tools', ['list_allowed_directories', 'read_text_file', 'write_file', 'list_directory',
            'search_files']);
        const real = fs.realpathSync(opts.root);
        const asked = await waitFor(m => m && m.method === 'roots/list' && m.id !== undefined, 5000);
        check('roots/list: the server asked the client for its roots', asked !== undefined,
            'no roots/list request within 5 s');

        // The server was started without directories: what it allows is
        // what the client's roots say, once it has asked for them.
        const allowed = async want => {
            let t = '';
            for (let i = 0; i < 50; i++) {
                t = texts(await call('list_allowed_directories', {}));
                if (want(t))
                    break;
                await sleep(100);
            }
            return t;
        };
        let t = await allowed(s => s.includes(real));
        check('list_allowed_directories: the client\'s root', t.split('\n').includes(real), `got ${oneLine(t)}`);

        const file = path.join(real, 'mcpgate-peers.txt');
        const content = `written through MCP \u00e9\u2713 ${process.pid}\n`;
        try {
            const w = await call('write_file', { path: file, content });
            check('write_file inside the root', !w.isError && fs.existsSync(file) &&
                fs.readFileSync(file, 'utf8') === content, `got ${oneLine(texts(w))}`);
            const r = await call('read_text_file', { path: file });
            check('read_text_file inside the root: what was written', texts(r) === content, `got ${oneLine(texts(r))}`);
            const l = await call('list_directory', { path: real });
            check('list_directory of the root', texts(l).includes('[FILE] mcpgate-peers.txt'), `got ${oneLine(texts(l))}`);
            const f = await call('search_files', { path: real, pattern: '**/*.txt' });
            check('search_files in the root (glob and minimatch at work)', texts(f).split('\n').includes(file),
                `got ${oneLine(texts(f))}`);
        } catch (e) {
            fail('write and read a file in the root', errText(e));
        }
        const outside = path.join(os.tmpdir(), `mcpgate-outside-${process.pid}.txt`);
        fs.writeFileSync(outside, 'secret\n');
        try {
            const r = await call('read_text_file', { path: outside });
            check('read_text_file outside the root: refused', r.isError === true && !texts(r).includes('secret'),
                `got ${oneLine(texts(r))}`);
        } catch (e) {
            check('read_text_file outside the root: refused', e instanceof sdk.McpError &&
                e.code !== sdk.ErrorCode.ConnectionClosed && e.code !== sdk.ErrorCode.RequestTimeout, errText(e));
        } finally {
            fs.rmSync(outside, { force: true });
        }

        // The roots change: the server asks again and follows.
        const sub = path.join(real, 'sub');
        fs.mkdirSync(sub, { recursive: true });
        roots = [{ uri: pathToFileURL(sub).href, name: 'mcpgate-test-sub' }];
        const n = rootsAsked.length;
        await client.sendRootsListChanged();
        t = await allowed(s => s.split('\n').includes(sub));
        check('notifications/roots/list_changed: the server asks again and allows only the new root',
            rootsAsked.length > n && t.split('\n').includes(sub) && !t.split('\n').includes(real),
            `asked ${rootsAsked.length - n} times, got ${oneLine(t)}`);
        try {
            const r = await call('read_text_file', { path: file });
            check('read_text_file in the old root: refused now', r.isError === true, `got ${oneLine(texts(r))}`);
        } catch (e) {
            check('read_text_file in the old root: refused now', e instanceof sdk.McpError &&
                e.code !== sdk.ErrorCode.ConnectionClosed && e.code !== sdk.ErrorCode.RequestTimeout, errText(e));
        }
    }

    async function suiteMemory() {
        expectListed('the graph tools', ['create_entities', 'create_relations', 'read_graph', 'search_nodes',
            'delete_entities']);
        const name = `mcpgate-test-${process.pid}`;
        try {
            const c = await call('create_entities', { entities: [
                { name, entityType: 'test', observations: ['relayed by mcpgate \u2713'] },
                { name: `${name}-peer`, entityType: 'test', observations: [] },
            ] });
            check('create_entities', !c.isError && c.structuredContent &&
                c.structuredContent.entities.length === 2, `got ${JSON.stringify(c).slice(0, 200)}`);
            const rel = await call('create_relations', { relations: [
                { from: name, to: `${name}-peer`, relationType: 'talks_to' }] });
            check('create_relations', !rel.isError, `got ${JSON.stringify(rel).slice(0, 200)}`);
            const g = await call('read_graph', {});
            const ent = g.structuredContent?.entities?.find(e => e.name === name);
            check('read_graph: the entity with its observation and relation',
                ent !== undefined && ent.observations.includes('relayed by mcpgate \u2713') &&
                g.structuredContent.relations.some(r => r.from === name && r.relationType === 'talks_to'),
                `got ${JSON.stringify(g.structuredContent).slice(0, 300)}`);
            const s = await call('search_nodes', { query: name });
            check('search_nodes finds it', s.structuredContent?.entities?.some(e => e.name === name),
                `got ${JSON.stringify(s.structuredContent).slice(0, 200)}`);
            const d = await call('delete_entities', { entityNames: [name, `${name}-peer`] });
            const g2 = await call('read_graph', {});
            check('delete_entities: gone from read_graph', !d.isError &&
                !g2.structuredContent?.entities?.some(e => e.name === name),
                `got ${JSON.stringify(g2.structuredContent).slice(0, 200)}`);
        } catch (e) {
            fail('memory graph round trip', errText(e));
        }
    }

    // ------------------------------------------------------------ ping, both ways
    if (connected) {
        try {
            await client.ping(T);
            pass('ping');
        } catch (e) {
            fail('ping', errText(e));
        }
        const sping = received.find(m => m && m.method === 'ping' && m.id !== undefined);
        if (sping !== undefined)
            check('ping from the server: answered', sent.some(m => m.id === sping.id && m.result !== undefined),
                'no answer sent');
    }

    // ------------------------------------------------------------ hygiene
    // Progress after a cancellation, or handled after its answer (see
    // above), is for a token the SDK has forgotten; anything else is a
    // protocol error.
    const errors = sdkErrors.filter(e => !/progress notification for an unknown token/.test(e));
    check('no protocol errors seen by the SDK', errors.length === 0, `${errors.length}: ${errors.slice(0, 3).join(' | ')}`);
    const bad = received.filter(m => m && m.unparsable !== undefined);
    check('every line received is JSON', bad.length === 0, `got ${JSON.stringify(bad[0])}`);

    // ------------------------------------------------------------ close
    const tClose = Date.now();
    try {
        await withTimeout(client.close(), CLOSE_TIMEOUT_MS + 1000, 'close()');
    } catch (e) {
        note(`close: ${errText(e)}`);
    }
    if (child) {
        while (childExit === null && Date.now() < tClose + CLOSE_TIMEOUT_MS)
            await sleep(50);
        check(`close: the command exits within ${CLOSE_TIMEOUT_MS / 1000} s`, childExit !== null,
            `pid ${child.pid} still running`);
        if (childExit === null)
            try { child.kill('SIGKILL'); } catch { /* gone */ }
        else
            note(`command exit: ${JSON.stringify(childExit)}`);
    }
    if (transcriptFd !== null) {
        if (partial.length > 0)
            fs.writeSync(transcriptFd, partial);
        fs.closeSync(transcriptFd);
    }
    clearTimeout(watchdog);
    if (nfail > 0 && childStderr !== '')
        note(`command stderr:\n${childStderr.replace(/^/gm, '  ')}`);
    process.exit(0);
}

main().catch(e => {
    fail('stdio_client crashed', e && e.stack ? e.stack : errText(e));
    process.exit(2);
});
