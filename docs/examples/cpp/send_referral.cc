// Sends one referral through your node (docs/integration.md):
//   send_referral PROFILE.json RECIPIENT_ORG CASE_REF CONSENT_REF
#include <iostream>

#include "trm/client/client.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: send_referral PROFILE.json RECIPIENT_ORG CASE_REF "
                 "CONSENT_REF\n";
    return 2;
  }
  auto profile = trm::client::LoadProfile(argv[1]);
  if (!profile.ok()) {
    std::cerr << profile.status().message() << "\n";
    return 1;
  }
  auto client = trm::client::Client::Connect(*profile);
  if (!client.ok()) {
    std::cerr << client.status().message() << "\n";
    return 1;
  }
  trm::v1::ReferralRequest referral;  // proto/trm/v1/case.proto
  referral.add_needs("shelter");
  referral.set_reason("identified by labour inspectors; wants to go home");
  trm::client::Message m;
  m.type = trm::v1::REFERRAL_REQUEST;
  m.recipient_org = argv[2];  // its node and key come from the directory
  m.case_ref = argv[3];
  m.consent_ref = argv[4];
  m.payload = referral.SerializeAsString();
  auto sent = (*client)->Send(m);
  if (!sent.ok()) {  // "REASON: what happened"; ReasonOf gives the REASON
    std::cerr << sent.status().message() << "\n";
    return trm::client::ReasonOf(sent.status()) == "USAGE" ? 2 : 1;
  }
  std::cout << "sent " << sent->message_id << ", accepted by node "
            << sent->node << ", receipt " << sent->receipt_check << "\n";
  return 0;
}
