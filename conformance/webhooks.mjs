// Webhook management as a web app does it. Apollo Client (HttpLink,
// InMemoryCache) registers an endpoint, lists endpoints, pages its
// deliveries, disables it with a mutation whose result updates the cached
// list in place, and meets a refused URL with errorPolicy "all" and with
// the default policy; the stock graphql-ws client rotates the secret over
// the WebSocket (and is refused an overlap out of range, as over HTTP). Prints one JSON line of findings.
//
//   node webhooks.mjs GRAPHQL_URL API_KEY RECEIVER_URL CHANNEL_ID OWNER_ID
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, key, receiver, channelId, ownerId] = process.argv.slice(2);
if (!ownerId) {
  console.error('usage: node webhooks.mjs GRAPHQL_URL API_KEY RECEIVER_URL CHANNEL_ID OWNER_ID');
  process.exit(2);
}
const findings = { warnings: [] };
console.warn = (...args) => findings.warnings.push(args.map(String).join(' '));
console.error = console.warn;

const Register = gql`
  mutation Register($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint { id url enabled eventKinds description }
    }
  }
`;
const Endpoints = gql`
  query Endpoints {
    webhookEndpoints { id url enabled eventKinds description }
  }
`;
const Deliveries = gql`
  query Deliveries($id: UUID!, $after: String) {
    webhookEndpoint(id: $id) {
      id
      deliveries(first: 1, after: $after) {
        edges { cursor node { id eventType chatId status attempts { httpStatus } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;
const Disable = gql`
  mutation Disable($id: UUID!) {
    updateWebhookEndpoint(id: $id, input: { enabled: false }) { id enabled }
  }
`;
const createChat = async (title) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: 'mutation($input: CreateChatInput!) { createChat(input: $input) { id } }',
      variables: { input: { channelId, ownerSuperIdentityId: ownerId, title } },
    }),
  });
  return (await response.json()).data.createChat.id;
};

try {
  const cache = new InMemoryCache();
  const apollo = new ApolloClient({
    cache,
    link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${key}` } }),
  });
  const created = await apollo.mutate({
    mutation: Register,
    variables: { input: { url: receiver, eventKinds: ['CREATED'], description: 'CRM sync' } },
  });
  const endpoint = created.data.createWebhookEndpoint.endpoint;
  findings.endpoint = endpoint;
  findings.secretPrefix = created.data.createWebhookEndpoint.secret.slice(0, 6);
  findings.listed = (await apollo.query({ query: Endpoints })).data.webhookEndpoints;

  // Two chats, two deliveries; then their pages, one at a time (newest
  // first), each polled until delivered.
  findings.chats = [await createChat('First'), await createChat('Second')];
  const page = async (after) => {
    for (let tries = 0; tries < 300; tries++) {
      const { data } = await apollo.query({
        query: Deliveries,
        variables: { id: endpoint.id, after },
        fetchPolicy: 'network-only',
      });
      const edges = data.webhookEndpoint.deliveries.edges;
      if (edges.length === 1 && edges[0].node.status === 'DELIVERED') {
        return data.webhookEndpoint.deliveries;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no delivered page after ${after}`);
  };
  let newest;
  for (let tries = 0; tries < 300; tries++) {
    newest = await page(null);
    if (newest.edges[0].node.chatId === findings.chats[1]) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  findings.pages = [newest, await page(newest.pageInfo.endCursor)];

  // The mutation's result is normalised into the cached list: no refetch.
  await apollo.mutate({ mutation: Disable, variables: { id: endpoint.id } });
  findings.cachedAfterDisable = apollo.readQuery({ query: Endpoints }).webhookEndpoints;

  // A refused URL: with errorPolicy "all" the error is returned, with the
  // default policy it is thrown.
  const refused = { input: { url: 'ftp://example.com/hook', eventKinds: ['CREATED'] } };
  const all = await apollo.mutate({ mutation: Register, variables: refused, errorPolicy: 'all' });
  findings.refusedAll = {
    data: all.data ?? null,
    errors: (all.error?.errors ?? []).map((e) => ({
      code: e.extensions?.code,
      field: e.extensions?.field,
      path: e.path ?? null,
    })),
  };
  try {
    await apollo.mutate({ mutation: Register, variables: refused });
    findings.refusedThrew = null;
  } catch (error) {
    findings.refusedThrew = error.constructor.name;
  }
  findings.afterRefusals = (
    await apollo.query({ query: Endpoints, fetchPolicy: 'network-only' })
  ).data.webhookEndpoints.length;

  // A mutation over the WebSocket, as graphql-ws runs it.
  const client = createClient({
    url: url.replace('http://', 'ws://'),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
  });
  const rotate = (hours) =>
    new Promise((resolve, reject) => {
      let result;
      client.subscribe(
        {
          query: `mutation Rotate($id: UUID!, $hours: Int!) {
            rotateWebhookSecret(id: $id, previousSecretHours: $hours) {
              secret endpoint { id previousSecretExpiresAt }
            }
          }`,
          variables: { id: endpoint.id, hours },
        },
        { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
      );
    });
  // Out of range, refused as over HTTP; then retired at once.
  findings.rotateRefused = await rotate(25);
  findings.rotated = await rotate(0);
  await client.dispose();
} catch (error) {
  findings.error = String(error?.stack ?? error);
}
console.log(JSON.stringify(findings));
process.exit(0);
