import os, random, sys, time, grpc
import csp.commerce
from csp.commerce.v1 import catalog_pb2

ADDR = os.environ.get("CSP_ADDR", "127.0.0.1:50051")
TOKEN = os.environ["CSP_TOKEN"]  # csp-commerce token --partner us --role sales_agent

catalog = csp.commerce.connect(ADDR, TOKEN).catalog  # the token goes on every call
# Codes a retry cannot cure: the request or the token is wrong. Every other end is a cut.
FINAL = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
last = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # the last revision handled: keep it durably
backoff = 1.0
while True:
    try:
        request = catalog_pb2.WatchCatalogChangesRequest(after_revision=last)  # replay, then live
        for message in catalog.WatchCatalogChanges(request):
            backoff = 1.0  # the stream works again
            for change in message.changes.changes:  # revisions 1, 2, 3, ...: no gap, no duplicate
                print(change.revision, catalog_pb2.ChangeKind.Name(change.kind), change.product_id, change.sku_id, change.country)
                last = change.revision
            if message.HasField("progress"):
                print("caught up at", message.progress.current_revision)
    except grpc.RpcError as err:  # cut off however (restart, crash, proxy, too slow a reader): resume after `last`
        if err.code() in FINAL:
            raise
        print(f"stream ended ({err.code().name}): resuming after {last}", file=sys.stderr)
    time.sleep(backoff * random.uniform(0.5, 1.0))  # jittered, so a replica's subscribers don't return at once
    backoff = min(backoff * 2, 30.0)
