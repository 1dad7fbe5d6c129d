#include "adapters/redis/archive_store.hpp"

#include "adapters/archive/archive_codec.hpp"
#include "adapters/archive/archive_locator.hpp"
#include "adapters/archive/archive_plan.hpp"
#include "adapters/redis/archive_scripts.hpp"
#include "adapters/redis/keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

namespace psp::redis {

namespace {

// The archive ids of the keys' archives ("" when the key is never
// archived or its pointer is not set); nullopt on failure.
std::optional<std::vector<std::string>>
archive_keys_of(connection& conn, const std::vector<std::string>& keys) {
  std::vector<std::string> out(keys.size());
  std::vector<std::vector<std::string>> reads;
  std::vector<size_t> pointer_of; // the key each read is for
  for (size_t i = 0; i < keys.size(); ++i) {
    auto where = archive::locate(keys[i]);
    if (!where) {
      continue;
    }
    if (!where->archive_key.empty()) {
      out[i] = where->archive_key;
    }
    for (auto& p : where->pointers) {
      reads.push_back({"HGET", p.bucket, p.field});
      pointer_of.push_back(i);
    }
  }
  if (!reads.empty()) {
    auto got = conn.query_all(reads);
    if (!got || got->size() != reads.size()) {
      return std::nullopt;
    }
    // An id has its pointer at one level at most.
    for (size_t r = 0; r < reads.size(); ++r) {
      auto& v = (*got)[r];
      if (v.type == value::kind::string && !v.str.empty()) {
        out[pointer_of[r]] = archive::archive_key(v.str);
      }
    }
  }
  return out;
}

std::string dictionary_key(uint64_t id) {
  return "arc:dict:" + std::to_string(id);
}

// The dictionaries the blobs need, by id (one round trip); nullopt on a
// failure or when a blob names a dictionary that is not stored.
std::optional<std::map<uint64_t, archive::dictionary>>
dictionaries_of(connection& conn,
                const std::vector<const std::string*>& blobs) {
  std::map<uint64_t, archive::dictionary> out;
  std::vector<std::vector<std::string>> gets;
  std::vector<uint64_t> ids;
  for (auto* blob : blobs) {
    auto id = archive::dictionary_id_of(*blob);
    if (!id) {
      return std::nullopt;
    }
    if (out.emplace(*id, archive::dictionary{*id, ""}).second) {
      gets.push_back({"GET", dictionary_key(*id)});
      ids.push_back(*id);
    }
  }
  if (gets.empty()) {
    return out;
  }
  auto got = conn.query_all(gets);
  if (!got) {
    return std::nullopt;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if ((*got)[i].is_nil()) {
      return std::nullopt;
    }
    out[ids[i]].bytes = std::move((*got)[i].str);
  }
  return out;
}

// The objects of one blob, its dictionary read from Redis.
std::optional<std::vector<archive::stored_object>>
unpack_blob(connection& conn, const std::string& blob) {
  auto dicts = dictionaries_of(conn, {&blob});
  if (!dicts || dicts->empty()) {
    return std::nullopt;
  }
  return archive::unpack(blob, dicts->begin()->second);
}

// The merchant's dictionary, made from `payments` unless it has one made
// of as many; with how many payments it is made of.
std::optional<std::pair<archive::dictionary, size_t>> merchant_dictionary(
  connection& conn, const std::string& merchant,
  const std::vector<std::vector<archive::stored_object>>& payments) {
  auto made_of = std::min(payments.size(), archive::dictionary_payments_max);
  auto got = eval(conn, archive_dictionary_script(),
                  {"arc:dicts", "arc:dict:next"},
                  {merchant, archive::dictionary_bytes_for(payments),
                   std::to_string(made_of)});
  if (!got || got->is_error() || got->elements.size() != 3) {
    return std::nullopt;
  }
  try {
    return std::make_pair(
      archive::dictionary{std::stoull(got->elements[0].str),
                          std::move(got->elements[1].str)},
      static_cast<size_t>(std::stoull(got->elements[2].str)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace

render::fields hash_fields(const value& reply) {
  render::fields out;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out.emplace(reply.elements[i].str, reply.elements[i + 1].str);
  }
  return out;
}

std::optional<std::string> archived_error_key(const value& reply) {
  static const std::string mark = "ARCHIVED ";
  if (!reply.is_error() || reply.str.rfind(mark, 0) != 0) {
    return std::nullopt;
  }
  auto end = reply.str.find(' ', mark.size());
  return reply.str.substr(mark.size(), end == std::string::npos
                                         ? std::string::npos
                                         : end - mark.size());
}

std::optional<std::vector<render::fields>>
read_objects(connection& conn, const std::vector<std::string>& keys) {
  std::vector<render::fields> out(keys.size());
  if (keys.empty()) {
    return out;
  }
  std::vector<std::vector<std::string>> reads;
  reads.reserve(keys.size());
  for (auto& key : keys) {
    reads.push_back({"HGETALL", key});
  }
  auto live = conn.query_all(reads);
  if (!live || live->size() != keys.size()) {
    return std::nullopt;
  }
  std::vector<std::string> missing;
  std::vector<size_t> missing_at;
  for (size_t i = 0; i < keys.size(); ++i) {
    out[i] = hash_fields((*live)[i]);
    if (out[i].empty()) {
      missing.push_back(keys[i]);
      missing_at.push_back(i);
    }
  }
  if (missing.empty()) {
    return out;
  }
  auto arcs = archive_keys_of(conn, missing);
  if (!arcs) {
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> gets;
  std::vector<size_t> get_of;
  for (size_t m = 0; m < missing.size(); ++m) {
    if (!(*arcs)[m].empty()) {
      gets.push_back({"GET", (*arcs)[m]});
      get_of.push_back(m);
    }
  }
  if (gets.empty()) {
    return out;
  }
  auto blobs = conn.query_all(gets);
  if (!blobs) {
    return std::nullopt;
  }
  std::vector<const std::string*> present;
  for (auto& blob : *blobs) {
    if (!blob.is_nil()) {
      present.push_back(&blob.str);
    }
  }
  auto dicts = dictionaries_of(conn, present);
  if (!dicts) {
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> reread;
  std::vector<size_t> reread_at;
  for (size_t g = 0; g < gets.size(); ++g) {
    auto& blob = (*blobs)[g];
    if (blob.is_nil()) {
      // Restored between the two reads: the hash is live again.
      reread.push_back({"HGETALL", missing[get_of[g]]});
      reread_at.push_back(missing_at[get_of[g]]);
      continue;
    }
    auto& dict = (*dicts)[*archive::dictionary_id_of(blob.str)];
    auto objects = archive::unpack(blob.str, dict);
    if (!objects) {
      return std::nullopt;
    }
    auto& key = missing[get_of[g]];
    for (auto& o : *objects) {
      if (o.key == key) {
        out[missing_at[get_of[g]]] =
          render::fields(o.fields.begin(), o.fields.end());
      }
    }
  }
  if (!reread.empty()) {
    auto again = conn.query_all(reread);
    if (!again) {
      return std::nullopt;
    }
    for (size_t r = 0; r < reread.size(); ++r) {
      out[reread_at[r]] = hash_fields((*again)[r]);
    }
  }
  return out;
}

std::optional<std::vector<value>>
query_fields(connection& conn,
             const std::vector<std::vector<std::string>>& commands) {
  auto out = conn.query_all(commands);
  if (!out || out->size() != commands.size()) {
    return std::nullopt;
  }
  auto all_nil = [](const value& v) {
    if (v.is_nil()) {
      return true;
    }
    return v.is_array()
           && std::all_of(v.elements.begin(), v.elements.end(),
                          [](const value& e) { return e.is_nil(); });
  };
  std::vector<size_t> missing;
  std::vector<std::string> keys;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto& cmd = commands[i];
    if (cmd.size() >= 3 && (cmd[0] == "HGET" || cmd[0] == "HMGET")
        && all_nil((*out)[i]) && archive::locate(cmd[1])) {
      missing.push_back(i);
      keys.push_back(cmd[1]);
    }
  }
  if (missing.empty()) {
    return out;
  }
  auto archived = read_objects(conn, keys);
  if (!archived) {
    return std::nullopt;
  }
  for (size_t m = 0; m < missing.size(); ++m) {
    auto& fields = (*archived)[m];
    if (fields.empty()) {
      continue;
    }
    auto& cmd = commands[missing[m]];
    auto answer = [&fields](const std::string& name) {
      value v;
      auto f = fields.find(name);
      if (f != fields.end()) {
        v.type = value::kind::string;
        v.str = f->second;
      }
      return v;
    };
    if (cmd[0] == "HGET") {
      (*out)[missing[m]] = answer(cmd[2]);
    } else {
      value arr;
      arr.type = value::kind::array;
      for (size_t f = 2; f < cmd.size(); ++f) {
        arr.elements.push_back(answer(cmd[f]));
      }
      (*out)[missing[m]] = std::move(arr);
    }
  }
  return out;
}

std::optional<render::fields> read_object(connection& conn,
                                          const std::string& key) {
  auto got = read_objects(conn, {key});
  if (!got) {
    return std::nullopt;
  }
  return std::move((*got)[0]);
}

bool restore_archive(connection& conn, const std::string& arc_key) {
  auto blob = conn.query({"GET", arc_key});
  if (!blob) {
    return false;
  }
  if (blob->is_nil()) {
    return true;
  }
  auto objects = unpack_blob(conn, blob->str);
  if (!objects) {
    return false;
  }
  std::vector<std::string> args{
    blob->str,
    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count())};
  for (auto& o : *objects) {
    args.push_back(o.key);
    args.push_back(std::to_string(2 * o.fields.size()));
    for (auto& [field, v] : o.fields) {
      args.push_back(field);
      args.push_back(v);
    }
  }
  auto done = eval(conn, archive_restore_script(), {arc_key}, args);
  return done && !done->is_error();
}

namespace {

// A pass that has not finished its entries this long after taking them
// died (a pass takes milliseconds; each Redis call is bounded by its
// timeout): the next take puts them back on the queue.
constexpr int64_t taken_stale_ms = 60'000;

// A payment whose webhooks are still being tried is asked about again just
// after the next try of its pending deliveries (their score in
// webhooks:due), and never sooner than this: with after_ms 0, every pass
// would otherwise take it again at once. Without a known next try: after
// max(this, after_ms).
constexpr int64_t later_retry_ms = 5'000;
constexpr int64_t after_next_try_ms = 1'000;

struct taken_entry {
  std::string value; ///< as held in archive:taking
  std::string entry; ///< as it was in archive:due: `<ms>|<id>`
  std::string id;    ///< a payment's intent id, or a refund's id
};

/// Taken entries, each with some names: its objects' keys, or the ids of
/// its deliveries still being tried.
using named_entries =
  std::vector<std::pair<const taken_entry*, std::vector<std::string>>>;

std::optional<taken_entry> parse_taken(const std::string& value) {
  auto first = value.find('|');
  auto second = first == std::string::npos ? first : value.find('|', first + 1);
  if (second == std::string::npos) {
    return std::nullopt;
  }
  return taken_entry{value, value.substr(first + 1), value.substr(second + 1)};
}

struct ready_payment {
  const taken_entry* taken = nullptr;
  std::string archive_id;
  std::vector<archive::stored_object> objects;
};

/// What a pass does with its entries when it ends: some go back on the
/// queue (`soon`: at the old end, taken again next), some wait in
/// archive:later (`later`: score, id pairs), and every one leaves
/// archive:taking.
struct release_plan {
  std::vector<std::string> soon;
  std::vector<std::string> later;
  std::vector<std::vector<std::string>> commands(
    const std::vector<taken_entry>& taken) const {
    std::vector<std::vector<std::string>> out;
    if (!soon.empty()) {
      out.push_back({"RPUSH", archive_due_key});
      out.back().insert(out.back().end(), soon.begin(), soon.end());
    }
    if (!later.empty()) {
      out.push_back({"ZADD", archive_later_key});
      out.back().insert(out.back().end(), later.begin(), later.end());
    }
    for (auto& t : taken) {
      out.push_back({"LREM", archive_taking_key, "1", t.value});
    }
    return out;
  }
};


/// archive:later's score, id pairs for payments whose deliveries are still
/// being tried: each just after the latest next try of its pending
/// deliveries (reads after WATCH do not disturb it). Empty when Redis
/// failed.
std::vector<std::string> when_to_ask_again(connection& conn,
                                           const named_entries& waiting,
                                           int64_t now_ms, int64_t after_ms) {
  std::vector<std::vector<std::string>> reads;
  for (auto& [t, deliveries] : waiting) {
    for (auto& id : deliveries) {
      reads.push_back({"ZSCORE", keys::deliveries_due, id});
    }
  }
  std::vector<value> scores;
  if (!reads.empty()) {
    auto got = conn.query_all(reads);
    if (!got) {
      return {};
    }
    scores = std::move(*got);
  }
  std::vector<std::string> out;
  size_t at = 0;
  for (auto& [t, deliveries] : waiting) {
    int64_t next_try_ms = 0;
    for (size_t i = 0; i < deliveries.size(); ++i, ++at) {
      auto& s = scores[at];
      char* end = nullptr;
      double score = s.is_nil() || s.is_error()
                       ? 0
                       : std::strtod(s.str.c_str(), &end);
      if (end != nullptr && end != s.str.c_str() && score > 0) {
        next_try_ms = std::max(next_try_ms, static_cast<int64_t>(score));
      }
    }
    auto when = next_try_ms > 0
                  ? next_try_ms + after_next_try_ms
                  : now_ms + std::max(later_retry_ms, after_ms);
    out.push_back(std::to_string(std::max(when, now_ms + later_retry_ms)));
    out.push_back(t->id);
  }
  return out;
}

/// Gives every entry back for the next pass after a failure (best effort:
/// if Redis is gone, the next take finds them stale).
void give_back(connection& conn, const std::vector<taken_entry>& taken) {
  release_plan plan;
  for (auto& t : taken) {
    plan.soon.push_back(t.entry);
  }
  conn.run({"UNWATCH"});
  conn.pipeline(plan.commands(taken));
}

} // namespace

archive_pass archive_due_payments(connection& conn, int64_t now_ms,
                                  int64_t after_ms, size_t max) {
  dictionary_cache own;
  return archive_due_payments(conn, now_ms, after_ms, max, own);
}

archive_pass archive_due_payments(connection& conn, int64_t now_ms,
                                  int64_t after_ms, size_t max,
                                  dictionary_cache& dictionaries) {
  archive_pass pass;
  auto got = eval(conn, archive_take_script(),
                  {archive_due_key, archive_taking_key, archive_later_key},
                  {std::to_string(now_ms), std::to_string(after_ms),
                   std::to_string(max), std::to_string(taken_stale_ms)});
  if (!got || got->is_error()) {
    pass.failed = true;
    return pass;
  }
  std::vector<taken_entry> taken;
  for (auto& v : got->elements) {
    if (auto t = parse_taken(v.str)) {
      taken.push_back(std::move(*t));
    }
  }
  pass.taken = taken.size();
  if (taken.empty()) {
    return pass;
  }
  auto failed = [&] {
    give_back(conn, taken);
    pass.failed = true;
    pass.archived = pass.later = pass.skipped = 0;
    return pass;
  };
  // 1. What each intent refers to, and each session's intent (a refund's
  // and an op's keys follow from their ids).
  std::vector<std::vector<std::string>> reads;
  std::vector<const taken_entry*> read_for;
  named_entries payments;
  for (auto& t : taken) {
    if (archive::is_refund_id(t.id) || archive::is_op_id(t.id)) {
      auto keys = archive::is_refund_id(t.id) ? archive::refund_keys(t.id)
                                              : archive::op_keys(t.id);
      if (keys) {
        payments.emplace_back(&t, std::move(*keys));
      }
      continue;
    }
    if (archive::is_session_id(t.id)) {
      reads.push_back({"HMGET", keys::session(t.id), "intent"});
    } else {
      std::vector<std::string> cmd{"HMGET", keys::intent(t.id)};
      cmd.insert(cmd.end(), archive::intent_ref_fields.begin(),
                 archive::intent_ref_fields.end());
      reads.push_back(std::move(cmd));
    }
    read_for.push_back(&t);
  }
  if (!reads.empty()) {
    auto refs = conn.query_all(reads);
    if (!refs) {
      return failed();
    }
    for (size_t i = 0; i < refs->size(); ++i) {
      auto& r = (*refs)[i].elements;
      auto& id = read_for[i]->id;
      std::optional<std::vector<std::string>> keys;
      if (archive::is_session_id(id)) {
        keys = archive::session_keys(id, r.size() == 1 ? r[0].str : "");
      } else {
        archive::intent_refs ref;
        if (r.size() == 5) {
          ref = {r[0].str, r[1].str, r[2].str, r[3].str, r[4].str};
        }
        keys = archive::payment_keys(id, ref);
        if (!keys) {
          keys = archive::canceled_intent_keys(id, ref);
        }
      }
      if (keys) {
        payments.emplace_back(read_for[i], std::move(*keys));
      }
    }
  }
  // 2. Their objects, watched from before the read: if any changes before
  // the write, the write is not made (EXEC answers nil).
  std::vector<std::vector<std::string>> snapshot{{"WATCH"}};
  for (auto& [t, keys] : payments) {
    snapshot[0].insert(snapshot[0].end(), keys.begin(), keys.end());
    for (auto& key : keys) {
      snapshot.push_back({"HGETALL", key});
    }
  }
  std::optional<std::vector<value>> read;
  if (!payments.empty()) {
    read = conn.query_all(snapshot);
    if (!read) {
      return failed();
    }
  }
  release_plan plan;
  named_entries waiting;
  std::map<std::string, std::vector<ready_payment>> by_merchant;
  size_t at = 1; // after WATCH's +OK
  for (auto& [t, keys] : payments) {
    ready_payment p;
    p.taken = t;
    for (auto& key : keys) {
      archive::stored_object o{key, {}};
      auto& flat = (*read)[at++].elements;
      for (size_t f = 0; f + 1 < flat.size(); f += 2) {
        o.fields.emplace_back(flat[f].str, flat[f + 1].str);
      }
      p.objects.push_back(std::move(o));
    }
    auto verdict = archive::is_refund_id(t->id)
                     ? archive::judge_refund(t->id, keys, p.objects)
                   : archive::is_session_id(t->id)
                     ? archive::judge_session(t->id, keys, p.objects)
                   : archive::is_op_id(t->id)
                     ? archive::judge_op(t->id, keys, p.objects)
                     : archive::judge(t->id, keys, p.objects);
    if (verdict == archive::readiness::later) {
      ++pass.later;
      waiting.emplace_back(t, archive::pending_deliveries(p.objects));
      continue;
    }
    auto* merchant = archive::merchant_of(p.objects);
    if (verdict == archive::readiness::never || merchant == nullptr) {
      continue;
    }
    // The second key names the archive: the attempt, the refund's op
    // record, the session's expiry event, the op's first event.
    p.archive_id = archive::archive_id_of(keys[1]);
    // Objects that do not exist are not archived (an intent without a
    // session, a payment whose events were never written).
    for (size_t i = p.objects.size(); i-- > 0;) {
      if (p.objects[i].fields.empty()) {
        p.objects.erase(p.objects.begin() + static_cast<long>(i));
      }
    }
    by_merchant[*merchant].push_back(std::move(p));
  }
  if (!waiting.empty()) {
    plan.later = when_to_ask_again(conn, waiting, now_ms, after_ms);
    if (plan.later.empty()) {
      return failed();
    }
  }
  // 3. Packed with their merchant's dictionary.
  std::vector<std::string> commit{std::to_string(now_ms)};
  std::vector<const taken_entry*> packed;
  for (auto& [merchant, ready] : by_merchant) {
    // Paid charges first: the dictionary is made of the first few, and they
    // are most of what a merchant's archive holds.
    std::stable_partition(ready.begin(), ready.end(), [](auto& p) {
      auto& id = p.taken->id;
      return !archive::is_refund_id(id) && !archive::is_session_id(id)
             && !archive::is_op_id(id);
    });
    std::vector<std::vector<archive::stored_object>> samples;
    for (size_t i = 0;
         i < ready.size() && i < archive::dictionary_payments_max; ++i) {
      samples.push_back(ready[i].objects);
    }
    auto& cached = dictionaries.by_merchant[merchant];
    if (cached.made_of < samples.size()) {
      auto made = merchant_dictionary(conn, merchant, samples);
      if (!made) {
        return failed();
      }
      cached.dict = std::move(made->first);
      cached.made_of = made->second;
    }
    for (auto& p : ready) {
      auto blob = archive::pack(p.objects, cached.dict);
      if (blob.empty()) {
        continue;
      }
      pass.packed_bytes += blob.size();
      packed.push_back(p.taken);
      commit.push_back(p.archive_id);
      commit.push_back(std::move(blob));
      commit.push_back(std::to_string(p.objects.size()));
      for (auto& o : p.objects) {
        commit.push_back(o.key);
      }
    }
  }
  // 4. Written, with the queue's bookkeeping, in one transaction.
  auto finish = plan.commands(taken);
  if (packed.empty()) {
    conn.run({"UNWATCH"});
    if (!conn.query_all(finish)) {
      pass.failed = true; // the next take finds them stale
    }
    pass.skipped = pass.taken - pass.later;
    return pass;
  }
  // Loaded before MULTI: EVALSHA queued in a transaction cannot fall back
  // to EVAL when the script is unknown.
  auto& script = archive_commit_script();
  if (!conn.query({"SCRIPT", "LOAD", script.source})) {
    return failed();
  }
  std::vector<std::vector<std::string>> tx{{"MULTI"},
                                           {"EVALSHA", script.sha1_hex, "0"}};
  tx.back().insert(tx.back().end(), commit.begin(), commit.end());
  tx.insert(tx.end(), finish.begin(), finish.end());
  tx.push_back({"EXEC"});
  auto done = conn.pipeline(tx);
  if (!done || done->size() != tx.size() || done->back().is_error()) {
    return failed();
  }
  auto& exec = done->back();
  if (exec.is_nil()) {
    // Something changed after the read: the packed ones are asked about
    // again at the next pass, the rest as decided.
    for (auto* t : packed) {
      plan.soon.push_back(t->entry);
    }
    if (!conn.query_all(plan.commands(taken))) {
      pass.failed = true; // the next take finds them stale
    }
    pass.later += packed.size();
    pass.skipped = pass.taken - pass.later;
    return pass;
  }
  if (exec.elements.empty() || exec.elements[0].is_error()) {
    pass.failed = true; // bookkeeping applied; the payments stay live
    return pass;
  }
  pass.archived = static_cast<size_t>(exec.elements[0].integer);
  pass.skipped = pass.taken - pass.archived - pass.later;
  return pass;
}

} // namespace psp::redis
