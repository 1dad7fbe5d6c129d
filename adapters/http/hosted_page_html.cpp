#include "adapters/http/hosted_page_html.hpp"

#include "actors/currency.hpp"
#include "adapters/http/card_number_mask.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace psp::http {

namespace {

const std::string& get(const render::fields& f, const std::string& key) {
  static const std::string empty;
  auto i = f.find(key);
  return i == f.end() ? empty : i->second;
}

/// The amount with the currency's own number of decimals ("20.00 USD",
/// "1200 JPY"), escaped because the code comes from stored data.
std::string money(int64_t minor, const std::string& currency) {
  return html_escape(format_amount(minor, currency));
}

int64_t to_int(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (const std::exception&) {
    return 0;
  }
}

const char* style = R"css(
body{font-family:system-ui,sans-serif;background:#f6f8fa;margin:0;padding:2rem}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;
padding:1.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.2rem}table{width:100%;border-collapse:collapse}
td{padding:.25rem 0;overflow-wrap:anywhere}
td.amount{text-align:right;white-space:nowrap}h1{overflow-wrap:anywhere}
.total{font-weight:bold;border-top:1px solid #ddd}
label{display:block;margin-top:.75rem;font-size:.9rem}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
.error{color:#b00020;font-size:.85rem}
button{margin-top:1rem;width:100%;padding:.75rem;font-size:1rem;
background:#635bff;color:#fff;border:0;border-radius:4px}
)css";

std::string page(const std::string& title, const std::string& body) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width\">"
         "<title>" + html_escape(title) + "</title><style>" + style
         + "</style></head><body><main>" + body + "</main></body></html>";
}

std::string summary(const render::fields& cs) {
  std::string rows;
  auto items = nlohmann::json::parse(get(cs, "line_items"), nullptr, false);
  if (items.is_array()) {
    for (auto& li : items) {
      if (!li.is_object()) {
        continue; // not as the create step writes them: show none
      }
      // <bdi>: a name's own direction marks stay inside it.
      rows += "<tr><td><bdi>" + html_escape(li.value("name", ""))
              + "</bdi> &times; "
              + std::to_string(li.value("quantity", 0)) + "</td><td class="
              "\"amount\">" + money(li.value("amount_total", 0),
                                    get(cs, "currency")) + "</td></tr>";
    }
  }
  return "<h1><bdi>" + html_escape(get(cs, "merchant_name")) + "</bdi></h1>"
         "<table>" + rows
         + "<tr class=\"total\"><td>Total</td><td class=\"amount\" "
           "id=\"total\">"
         + money(to_int(get(cs, "amount_total")), get(cs, "currency"))
         + "</td></tr></table>";
}

/// What the shopper typed in the name or expiry field, to show again,
/// or "" when it may hold a card number (typed in the wrong field): card
/// data is never written back into a page.
std::string echoable(const std::string& typed) {
  return may_hold_typed_card_number(typed) ? "" : typed;
}

std::string field_error(const std::map<std::string, std::string>& errors,
                        const std::string& field) {
  auto i = errors.find(field);
  if (i == errors.end()) {
    return "";
  }
  return "<div class=\"error\" id=\"error-" + field + "\" role=\"alert\">"
         + html_escape(i->second) + "</div>";
}

} // namespace

bool may_hold_typed_card_number(const std::string& typed) {
  // Separators and letters between groups vary without end (the re-test
  // wrote "####/####/####/####" and "####a####b####c####"); a name or an
  // expiry never needs 12 digits.
  auto digits = std::count_if(typed.begin(), typed.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  return digits >= 12 || contains_card_number(typed)
         || mask_card_numbers(typed) != typed;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string payment_form_page(const render::fields& cs,
                              const std::string& nonce,
                              const std::map<std::string, std::string>& errors,
                              const std::string& name,
                              const std::string& exp) {
  auto id = html_escape(get(cs, "id"));
  std::string cancel;
  if (!get(cs, "cancel_url").empty()) {
    cancel = "<p><a href=\"" + html_escape(get(cs, "cancel_url"))
             + "\">Cancel and return to the store</a></p>";
  }
  return page(
    "Pay " + get(cs, "merchant_name"),
    summary(cs) + field_error(errors, "form")
      + "<form method=\"post\" action=\"/pay/" + id + "\" id=\"payment-form\">"
        "<input type=\"hidden\" name=\"nonce\" value=\"" + html_escape(nonce)
      + "\"><label>Name on card<input name=\"name\" autocomplete=\"cc-name\" "
        "value=\"" + html_escape(echoable(name)) + "\"></label>"
      + field_error(errors, "name")
      + "<label>Card number<input name=\"number\" id=\"number\" "
        "autocomplete=\"cc-number\" inputmode=\"numeric\" required></label>"
      + field_error(errors, "number")
      + "<label>Expiry (MM/YY)<input name=\"exp\" id=\"exp\" "
        "autocomplete=\"cc-exp\" placeholder=\"MM/YY\" required value=\""
      + html_escape(echoable(exp)) + "\"></label>" + field_error(errors, "exp")
      + "<label>CVC<input name=\"cvc\" id=\"cvc\" autocomplete=\"cc-csc\" "
        "inputmode=\"numeric\" required></label>"
      + field_error(errors, "cvc")
      + "<button type=\"submit\" id=\"pay\">Pay "
      + money(to_int(get(cs, "amount_total")), get(cs, "currency"))
      + "</button></form>" + cancel
      // One click, one submission: the nonce already makes a second
      // submission harmless; this only spares the shopper a second wait.
      + "<script>document.getElementById('payment-form').addEventListener("
        "'submit',function(){document.getElementById('pay').disabled=true;});"
        // Browsers put typed values back when the shopper comes Back to
        // the page: never the card number and CVC (a shared computer).
        "window.addEventListener('pageshow',function(){"
        "document.getElementById('number').value='';"
        "document.getElementById('cvc').value='';"
        "document.getElementById('pay').disabled=false;});"
        "</script>");
}

std::string status_page(const render::fields& cs,
                        const std::string& decline_message) {
  auto id = html_escape(get(cs, "id"));
  if (!decline_message.empty()) {
    // Decided already: said by the server, so it reads without scripts.
    return page("Payment status",
                summary(cs) + "<p id=\"status\" role=\"status\">Payment "
                              "declined: "
                  + html_escape(decline_message)
                  + "</p><p id=\"retry\"><a href=\"/pay/" + id
                  + "\">Try another card</a></p>");
  }
  return page(
    "Payment status",
    summary(cs)
      + "<p id=\"status\" role=\"status\">Processing your payment&hellip;</p>"
        "<p id=\"retry\" hidden><a href=\"/pay/" + id
      + "\">Try another card</a></p><noscript><meta http-equiv=\"refresh\" "
        "content=\"2\"></noscript><script>"
        "function poll(){fetch('/pay/" + id + "/status.json').then(function(r)"
        "{return r.json();}).then(function(s){"
        "if(s.redirect_url){document.getElementById('status').textContent="
        "'Payment succeeded. Redirecting…';location.replace(s.redirect_url);return;}"
        "if(s.error_message){document.getElementById('status').textContent="
        "'Payment declined: '+s.error_message+(s.attempts_left===0?"
        "' This checkout has tried too many cards. Please start again from "
        "the store.':'');document.getElementById('retry')"
        ".hidden=s.attempts_left===0;return;}"
        "if(s.status==='expired'){document.getElementById('status')"
        ".textContent='This checkout has expired.';return;}"
        "setTimeout(poll,500);}).catch(function(){setTimeout(poll,1000);});}"
        "poll();</script>");
}

std::string message_page(const std::string& title, const std::string& message,
                         const std::string& link_url,
                         const std::string& link_text) {
  std::string link;
  if (!link_url.empty()) {
    link = "<p><a href=\"" + html_escape(link_url) + "\">"
           + html_escape(link_text) + "</a></p>";
  }
  return page(title, "<h1>" + html_escape(title) + "</h1><p id=\"message\">"
                       + html_escape(message) + "</p>" + link);
}

std::string success_redirect(const render::fields& cs) {
  auto url = get(cs, "success_url");
  const std::string token = "{CHECKOUT_SESSION_ID}";
  for (auto pos = url.find(token); pos != std::string::npos;
       pos = url.find(token, pos)) {
    url.replace(pos, token.size(), get(cs, "id"));
  }
  return url;
}

} // namespace psp::http
