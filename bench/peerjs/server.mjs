// Starts a PeerJS server on 127.0.0.1 with a free port (or PORT) and prints the port.
// Used only by Hallway's relay benchmark, as the baseline it is compared with.
import { PeerServer } from "peer";

const port = Number(process.env.PORT ?? 0);
PeerServer(
  {
    host: "127.0.0.1",
    port,
    // The benchmark opens thousands of clients; PeerJS's default caps at 5000.
    concurrent_limit: 1_000_000,
  },
  (server) => {
    console.log(`listening on ${server.address().port}`);
  },
);
