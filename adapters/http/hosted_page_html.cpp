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

/// The amount with the currency's own number of decimals and its thousands
/// grouped ("20.00 USD", "1,200 JPY", "999,999.99 USD"), escaped because
/// the code comes from stored data.
std::string money(int64_t minor, const std::string& currency) {
  auto text = format_amount(minor, currency);
  auto first = text.find_first_of("0123456789");
  auto end = text.find_first_not_of("0123456789", first);
  if (first != std::string::npos) {
    for (auto at = (end == std::string::npos ? text.size() : end);
         at > first + 3; at -= 3) {
      text.insert(at - 3, 1, ',');
    }
  }
  return html_escape(text);
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
h2{font-size:1rem;margin:1.25rem 0 0}
label{display:block;margin-top:.75rem;font-size:.9rem}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
input[aria-invalid=true]{border:2px solid #b00020}
.hint{color:#57606a;font-size:.8rem}
.error{color:#b00020;font-size:.85rem}
#error-summary{border:2px solid #b00020;border-radius:4px;padding:.5rem 1rem;
margin-top:1rem}#error-summary ul{margin:.25rem 0;padding-left:1.25rem}
button{margin-top:1rem;width:100%;padding:.75rem;font-size:1rem;
background:#635bff;color:#fff;border:2px solid transparent;border-radius:4px}
@media (max-width:30rem){body{padding:.5rem}main{padding:1rem}}
)css";

std::string page(const std::string& title, const std::string& body) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, "
         "initial-scale=1\">"
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
              + "</bdi> <span class=\"hint\">Qty "
              + std::to_string(li.value("quantity", 0)) + "</span></td><td class="
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
  return "<div class=\"error\" id=\"error-" + field + "\">"
         + html_escape(i->second) + "</div>";
}

/// The attributes that tie an input to its hint and its error, so a screen
/// reader reads them with the field and says it is invalid.
std::string described_by(const std::map<std::string, std::string>& errors,
                         const std::string& field, const std::string& hint) {
  std::string ids = hint;
  std::string invalid;
  if (errors.count(field) != 0) {
    ids += (ids.empty() ? "" : " ") + ("error-" + field);
    invalid = " aria-invalid=\"true\"";
  }
  return ids.empty() ? invalid
                     : invalid + " aria-describedby=\"" + ids + "\"";
}

/// Every problem at the top of the form, each linked to its field, focused
/// when the page loads: the one alert a screen reader speaks at once.
std::string error_summary(const std::map<std::string, std::string>& errors) {
  if (errors.empty()) {
    return "";
  }
  std::string items;
  for (const char* field : {"form", "name", "number", "exp", "cvc"}) {
    auto i = errors.find(field);
    if (i == errors.end()) {
      continue;
    }
    auto text = html_escape(i->second);
    items += std::string{"<li>"}
             + (i->first == "form"
                  ? text
                  : "<a href=\"#" + i->first + "\">" + text + "</a>")
             + "</li>";
  }
  return "<div id=\"error-summary\" role=\"alert\" tabindex=\"-1\">"
         "<h2>There is a problem</h2><ul>" + items + "</ul></div>"
         "<script>document.getElementById('error-summary').focus();</script>";
}

/// Focuses the element with `id` once the page has loaded (the outcome of
/// a payment, so a screen reader starts there).
std::string focus_script(const std::string& id) {
  return "<script>document.getElementById('" + id + "').focus();</script>";
}

std::string cancel_link(const render::fields& cs) {
  if (get(cs, "cancel_url").empty()) {
    return "";
  }
  return "<p><a href=\"" + html_escape(get(cs, "cancel_url"))
         + "\">Cancel and return to the store</a></p>";
}

/// The server's checks of a card (card_check.cpp, with its messages), run
/// in the browser before the form goes: a mistyped expiry no longer costs
/// the shopper the number and CVC, which a page never gets back (the
/// accessibility audit). Digits typed full-width become ASCII ones. Where
/// the browser cannot know what the server will see it lets the card
/// through for the server to judge: an expiry is "past" only a month
/// after the server would say so (the browser's clock and time zone are
/// the shopper's, the server's UTC: a card of this month was refused in
/// the page at a month's last hours east of UTC, the re-test found).
const char* card_checks_script =
  "function field(id){return document.getElementById(id);}"
  "function norm(id){var i=field(id),v=i.value;"
  "if(v.normalize){v=v.normalize('NFKC');}i.value=v;return v;}"
  "function luhn(d){var s=0;for(var i=0;i<d.length;i++){"
  "var n=+d[d.length-1-i];if(i%2){n*=2;if(n>9){n-=9;}}s+=n;}"
  "return s%10===0;}"
  "function within(v,lo,hi){return v>=lo&&v<=hi;}"
  // detect_brand and length_fits_brand of card_check.cpp.
  "function brand(d){var p1=+d.slice(0,1),p2=+d.slice(0,2),"
  "p3=+d.slice(0,3),p4=+d.slice(0,4);"
  "if(p1===4){return 'visa';}"
  "if(within(p2,51,55)||within(p4,2221,2720)){return 'mastercard';}"
  "if(p2===34||p2===37){return 'amex';}"
  "if(p4===6011||within(p3,644,649)||p2===65){return 'discover';}"
  "if(within(p3,300,305)||p4===3095||p2===36||p2===38||p2===39){"
  "return 'diners';}"
  "if(within(p4,3528,3589)){return 'jcb';}"
  "if(p2===62){return 'unionpay';}return 'unknown';}"
  "function lengthFits(b,n){return b==='visa'?n===13||n===16||n===19:"
  "b==='mastercard'?n===16:b==='amex'?n===15:b==='diners'?within(n,14,19):"
  "b==='unknown'?true:within(n,16,19);}"
  "function numberError(n){if(!/^\\d{12,19}$/.test(n)||"
  "!lengthFits(brand(n),n.length)){return 'Your card number is invalid.';}"
  "return luhn(n)?'':'Your card number is incorrect.';}"
  "function expiryError(v){v=v.replace(/ /g,'');"
  "var m=/^(\\d{1,2})\\/(\\d{2}|\\d{4})$/.exec(v)||"
  "/^(\\d{2})(\\d{2}|\\d{4})$/.exec(v);"
  "if(!m||+m[1]<1||+m[1]>12){return 'Your card\\'s expiration month is "
  "invalid.';}var now=new Date(),"
  "months=now.getUTCFullYear()*12+now.getUTCMonth()+1,"
  "y=+m[2]+(m[2].length===2?Math.floor(now.getUTCFullYear()/100)*100:0);"
  "if(m[2].length===2&&y<now.getUTCFullYear()&&"
  "y+100<=now.getUTCFullYear()+20){y+=100;}"
  "var ahead=y*12+(+m[1])-months;"
  "if(ahead<-1){return 'Your card\\'s expiration date is in the past.';}"
  "if(ahead>240){return 'Your card\\'s expiration year is too far in the "
  "future.';}return '';}"
  "function cvcError(c,b){var ok=/^\\d+$/.test(c)&&(b==='amex'?c.length===4"
  ":b==='unknown'?c.length===3||c.length===4:c.length===3);"
  "return ok?'':'Your card\\'s security code is invalid.';}"
  "function show(id,message){var i=field(id),e=field('error-'+id),"
  "d=(i.getAttribute('aria-describedby')||'').split(' ').filter("
  "function(x){return x&&x!=='error-'+id;});"
  "if(!message){if(e){e.remove();}i.removeAttribute('aria-invalid');}"
  "else{if(!e){e=document.createElement('div');e.className='error';"
  "e.id='error-'+id;i.insertAdjacentElement('afterend',e);}"
  "e.textContent=message;i.setAttribute('aria-invalid','true');"
  "d.push('error-'+id);}"
  "if(d.length){i.setAttribute('aria-describedby',d.join(' '));}"
  "else{i.removeAttribute('aria-describedby');}return !message;}"
  // Separators the server reads (digits_only): ASCII and Unicode spaces,
  // tabs, dashes; NFKC has made most of them ASCII already.
  "function cardOk(){var n=norm('number').replace("
  "/[ \\t\\u00a0\\u2000-\\u200b\\u202f\\u205f\\u3000\\ufeff-]/g,''),"
  "c=norm('cvc').replace(/^ +| +$/g,''),first=null,b=brand(n);"
  // A name with 12 digits or more may be a card number typed in the
  // wrong field: the server refuses it (may_hold_typed_card_number).
  "var digits=(norm('name').match(/\\d/g)||[]).length;"
  "var checks=[['name',digits>=12?'Please enter the name as it is written "
  "on the card.':''],['number',numberError(n)],"
  "['exp',expiryError(norm('exp'))],['cvc',cvcError(c,b)]];"
  "checks.forEach(function(k){if(!show(k[0],k[1])&&!first){first=k[0];}});"
  "if(first){var s=field('error-summary');if(s){s.remove();}"
  "if(document.title.indexOf('Error: ')!==0){"
  "document.title='Error: '+document.title;}"
  "field(first).focus();return false;}return true;}";

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
  auto pay_label = "Pay " + money(to_int(get(cs, "amount_total")),
                                  get(cs, "currency"));
  // Card fields: no spelling or capital-letter help, which only gets in
  // the way of digits, and room for separators but not for a paste of a
  // whole paragraph.
  const std::string card_field = " spellcheck=\"false\" autocorrect=\"off\" "
                                 "autocapitalize=\"off\" inputmode=\"numeric\"";
  return page(
    (errors.empty() ? "" : "Error: ") + ("Pay " + get(cs, "merchant_name")),
    summary(cs) + error_summary(errors)
      + "<h2>Pay with card</h2>"
        "<form method=\"post\" action=\"/pay/" + id + "\" id=\"payment-form\">"
        "<input type=\"hidden\" name=\"nonce\" value=\"" + html_escape(nonce)
      + "\"><label for=\"name\">Name on card (optional)</label>"
        "<input name=\"name\" id=\"name\" autocomplete=\"cc-name\" "
        "autocapitalize=\"words\" spellcheck=\"false\" dir=\"auto\" "
        "maxlength=\"200\"" + described_by(errors, "name", "")
      + " value=\"" + html_escape(echoable(name)) + "\">"
      + field_error(errors, "name")
      + "<label for=\"number\">Card number</label>"
        "<input name=\"number\" id=\"number\" autocomplete=\"cc-number\""
      + card_field + " maxlength=\"30\" required"
      + described_by(errors, "number", "") + ">"
      + field_error(errors, "number")
      + "<label for=\"exp\">Expiry date</label>"
        "<span class=\"hint\" id=\"exp-hint\">Month and year, for example "
        "08/27</span>"
        "<input name=\"exp\" id=\"exp\" autocomplete=\"cc-exp\""
      + card_field + " maxlength=\"9\" placeholder=\"MM/YY\" required"
      + described_by(errors, "exp", "exp-hint") + " value=\""
      + html_escape(echoable(exp)) + "\">" + field_error(errors, "exp")
      + "<label for=\"cvc\">Security code (CVC)</label>"
        "<span class=\"hint\" id=\"cvc-hint\">3 digits on the back of the "
        "card, 4 on the front for American Express</span>"
        "<input name=\"cvc\" id=\"cvc\" autocomplete=\"cc-csc\"" + card_field
      + " maxlength=\"4\" required" + described_by(errors, "cvc", "cvc-hint")
      + ">" + field_error(errors, "cvc")
      + "<button type=\"submit\" id=\"pay\">" + pay_label + "</button></form>"
      + cancel_link(cs)
      // One click, one submission: the nonce already makes a second
      // submission harmless; this only spares the shopper a second wait.
      // The button stays focusable (a disabled one would drop the focus
      // to the page) and says what is happening.
      + "<script>(function(){var f=document.getElementById('payment-form'),"
        "b=document.getElementById('pay'),label=b.textContent,sent=false;"
      + card_checks_script
      + "f.addEventListener('submit',function(e){if(sent||!cardOk()){"
        "e.preventDefault();return;}sent=true;"
        "b.setAttribute('aria-disabled','true');"
        "b.textContent='Processing\u2026';});"
        // Browsers put typed values back when the shopper comes Back to
        // the page: never the card number and CVC (a shared computer).
        "window.addEventListener('pageshow',function(){"
        "document.getElementById('number').value='';"
        "document.getElementById('cvc').value='';"
        "sent=false;b.removeAttribute('aria-disabled');b.textContent=label;});"
        "})();</script>");
}

std::string status_page(const render::fields& cs,
                        const std::string& decline_message) {
  auto id = html_escape(get(cs, "id"));
  const auto& merchant = get(cs, "merchant_name");
  auto retry = "<p id=\"retry\"" + std::string{decline_message.empty()
                                                  ? " hidden"
                                                  : ""}
               + "><a href=\"/pay/" + id + "\">Try another card</a></p>";
  if (!decline_message.empty()) {
    // Decided already: said by the server, so it reads without scripts,
    // and focused, so a screen reader starts with the outcome.
    return page("Payment declined \u2013 " + merchant,
                summary(cs)
                  + "<p id=\"status\" role=\"status\" tabindex=\"-1\">"
                    "Payment declined: "
                  + html_escape(decline_message) + "</p>" + retry
                  + cancel_link(cs) + focus_script("status"));
  }
  return page(
    "Processing payment \u2013 " + merchant,
    summary(cs)
      + "<p id=\"status\" role=\"status\" tabindex=\"-1\">Processing your "
        "payment&hellip;</p>" + retry + cancel_link(cs)
      // Without scripts the server answers a reload from the state; a
      // link and a slower refresh leave the shopper in control.
      + "<noscript><meta http-equiv=\"refresh\" content=\"5\"><p>This page "
        "checks again every 5 seconds. <a href=\"/pay/" + id + "/status\">"
        "Check now</a></p></noscript><script>(function(){"
        "var st=document.getElementById('status'),started=Date.now(),"
        "merchant=document.title.replace(/^[^\u2013]*\u2013 /,'');"
        "function show(title,text){document.title=title+' \u2013 '+merchant;"
        "st.textContent=text;st.focus();}"
        "function poll(){fetch('/pay/" + id + "/status.json').then(function(r)"
        "{return r.json();}).then(function(s){"
        "if(s.redirect_url){show('Payment succeeded',"
        "'Payment succeeded. Returning to the store\u2026');"
        "location.replace(s.redirect_url);return;}"
        "if(s.error_message){show('Payment declined','Payment declined: '"
        "+s.error_message+(s.closed_message?' '+s.closed_message:"
        "s.attempts_left===0?"
        "' This checkout has tried too many cards. Please start again from "
        "the store.':''));document.getElementById('retry')"
        ".hidden=s.attempts_left===0;return;}"
        // The server's own page says so, with the way back to the store.
        "if(s.status==='expired'){location.reload();return;}"
        "if(Date.now()-started>30000&&!st.dataset.slow){st.dataset.slow=1;"
        "st.textContent='This is taking longer than usual. Please do not "
        "pay again: this page updates by itself.';}"
        "setTimeout(poll,500);}).catch(function(){setTimeout(poll,1000);});}"
        "poll();})();</script>");
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
