// demo_client.mjs: the MCP client of `make demo`.  Like Claude Desktop,
// it reads an MCP client configuration file (the one `mcpgate mcp config`
// wrote), starts the server entry it names with the official MCP SDK,
// and then shows the session: initialize, tools/list, a tools/call of
// every tool the server has, allowed or not, and close.
//
// usage: node demo_client.mjs CONFIG-FILE ENTRY TOOL...
// Exit 0 when every step went as the gateway's roles say it should: the
// listed tools answer, the others are refused with -32602; 1 otherwise.

import fs from 'node:fs';
import process from 'node:process';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from
    '@modelcontextprotocol/sdk/client/stdio.js';

const [file, entry, ...tools] = process.argv.slice(2);
if (!file || !entry || tools.length === 0) {
    process.stderr.write('usage: node demo_client.mjs CONFIG-FILE ENTRY TOOL...\n');
    process.exit(2);
}

function say(s) {
    process.stdout.write(s + '\n');
}

function indent(s) {
    return s.replace(/\n+$/, '').replace(/^/gm, '      ');
}

const timer = setTimeout(() => {
    say('demo client: no answer within 60 s; giving up');
    process.exit(1);
}, 60000);

let ok = true;
const conf = JSON.parse(fs.readFileSync(file, 'utf8'));
const server = (conf.mcpServers || conf.servers || {})[entry];
if (!server) {
    say(`demo client: ${file} has no server entry '${entry}'`);
    process.exit(1);
}
say(`  client config ${file}, entry '${entry}':`);
say(`    command: ${server.command} ${server.args.join(' ')}`);

const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: { ...getDefaultEnvironment(), ...(server.env || {}) },
    stderr: 'inherit',
});
const client = new Client({ name: 'mcpgate-demo-client', version: '1.0.0' });
await client.connect(transport);
const info = client.getServerVersion();
say(`  initialize: connected to ${info.name} ${info.version}`);

const listed = (await client.listTools()).tools.map((t) => t.name);
say(`  tools/list: ${listed.join(', ')}`);

for (const name of tools) {
    try {
        const res = await client.callTool({ name, arguments: {} });
        const text = res.content.find((c) => c.type === 'text');
        say(`  tools/call ${name}: answered${res.structuredContent ?
            ' (structuredContent checked against its outputSchema)' : ''}`);
        say(indent(text ? text.text : JSON.stringify(res)));
        if (!listed.includes(name))
            ok = false;
    } catch (e) {
        say(`  tools/call ${name}: refused, error ${e.code}:`);
        say(indent(e.message));
        if (listed.includes(name) || e.code !== -32602)
            ok = false;
    }
}
await client.ping();
say('  ping: answered');
await client.close();
say('  close: the session ended');
clearTimeout(timer);
process.exit(ok ? 0 : 1);
