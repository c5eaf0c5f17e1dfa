"""The verdict of a crash test, from trm_load's logs in the current directory.

usage: verdict.py NAME MESSAGES PRODUCER_RC CONSUMER_RC

Reads producer.log ("receipt <id>"), consumer.log ("delivered <id> ...",
"acked <id>") and final.json (what a receive after the last restart got), and
passes when every receipted message was delivered, each acknowledged, nothing
beyond the receipted ones was delivered, and nothing came back at the end.
"""
import json
import sys

name, n, prc, crc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
receipts = {l.split()[1] for l in open("producer.log") if l.startswith("receipt ")}
delivered = [l.split()[1] for l in open("consumer.log") if l.startswith("delivered ")]
acked = {l.split()[1] for l in open("consumer.log") if l.startswith("acked ")}
left = len(json.load(open("final.json")).get("messages", []))
missing = receipts - set(delivered)
print(f"receipts {len(receipts)}, deliveries {len(delivered)}, distinct delivered "
      f"{len(set(delivered))}, redeliveries {len(delivered) - len(set(delivered))}, "
      f"acked {len(acked)}, receipted but never delivered {len(missing)}, "
      f"left after the final restart {left}")
ok = (prc == 0 and crc == 0 and len(receipts) == n and not missing
      and set(delivered) == receipts and acked == receipts and left == 0)
print(f"{name}:", "PASSED" if ok else "FAILED")
sys.exit(0 if ok else 1)
