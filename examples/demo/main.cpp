// checkout-demo: shows a whole payment round trip against a running
// cluster, the way a shopper and a merchant would see it.
//
// For each checkout it buys at the example store, follows the redirect to
// the PSP's hosted page, submits a test card (some are declined and then
// retried with a good card on the same session), and watches the status
// page. Then it waits until the store has marked every order paid from the
// signed webhooks it received, prints a table, and finally creates one more
// checkout and prints its URL for a person to open in a browser.
//
// Exit status: 0 when every checkout ended paid at the PSP and at the store
// with all of its webhooks; 1 otherwise (with what is missing); 2 on bad
// flags. Every wait is bounded by --timeout-s.
#include "checkout_runner.hpp"
#include "demo_http.hpp"
#include "demo_options.hpp"
#include "report.hpp"
#include "store_orders.hpp"

#include <iostream>
#include <vector>

namespace {

std::vector<demo::checkout_result> run_checkouts(demo::checkout_runner& runner,
                                                 int count) {
  std::vector<demo::checkout_result> all;
  for (int i = 0; i < count; ++i) {
    auto r = runner.run(i);
    for (const auto& a : r.attempts) {
      demo::print_attempt(std::cout, r, a);
    }
    if (!r.error.empty()) {
      std::cout << "  checkout " << (i + 1) << "  " << r.error << "\n";
    }
    all.push_back(std::move(r));
  }
  return all;
}

// One more checkout nobody pays: a link to try the hosted page by hand.
void print_fresh_checkout(demo::checkout_runner& runner) {
  std::string err;
  auto url = runner.buy(demo::product_for(0), err);
  if (url.empty()) {
    std::cout << "could not create a fresh checkout: " << err << "\n";
    return;
  }
  auto state = runner.session_state(demo::session_id_of(url));
  if (state != "open") {
    std::cout << "the store's fresh checkout is not open (status '" << state
              << "'): " << url << "\n";
    return;
  }
  std::cout << "fresh checkout URL (open in a browser): " << url << "\n";
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = demo::parse_options(argc, argv);
  if (parsed.help) {
    std::cout << demo::usage();
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "checkout-demo: " << parsed.error << "\n" << demo::usage();
    return 2;
  }
  const auto& opts = *parsed.options;
  auto store = demo::make_client(opts.store_url);
  auto psp = demo::make_client(opts.psp_url);
  demo::checkout_runner runner(*store, *psp, opts.timeout_s);

  std::cout << "checkout-demo: " << opts.checkouts << " checkouts, store "
            << opts.store_url << ", hosted pages at " << opts.psp_url << "\n";
  auto all = run_checkouts(runner, opts.checkouts);
  std::cout << "waiting (at most " << opts.timeout_s
            << " s) for the store's webhooks...\n";
  demo::await_webhooks(*store, all, opts.timeout_s);

  std::cout << "\n";
  demo::print_table(std::cout, all);
  std::cout << "\n";
  demo::print_totals(std::cout, all);
  auto problems = demo::print_missing(std::cout, all);
  std::cout << (problems == 0 ? "result: every checkout paid, every webhook "
                                "received\n"
                              : "result: FAILED, " + std::to_string(problems) +
                                    " checkout(s) incomplete (above)\n");
  print_fresh_checkout(runner);
  return problems == 0 ? 0 : 1;
}
