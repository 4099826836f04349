// Internal to common/wire*.cpp: the strict JSON readers (every field named
// by its path in errors, unknown fields refused) and the writers, declared
// for every wire type so the protocol and the report types can live in
// separate files.
#pragma once

#include <set>
#include <string>

#include "common/wire.h"

namespace p2c2r::wire {

inline const char* type_name(const Json& j) {
  if (j.is_number_unsigned()) return "unsigned integer";
  if (j.is_number_integer()) return "integer";
  return j.type_name();
}

inline std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

inline Status wrong_type(const std::string& path, const char* expected, const Json& j) {
  return invalid_argument((path.empty() ? std::string("body") : path) + ": expected " + expected +
                          ", got " + type_name(j));
}

Status read(const Json& j, const std::string& path, KernelSpeed& out);
Status read(const Json& j, const std::string& path, DeviceCaps& out);
Status read(const Json& j, const std::string& path, RegisterHost& out);
Status read(const Json& j, const std::string& path, Registered& out);
Status read(const Json& j, const std::string& path, WorkRequest& out);
Status read(const Json& j, const std::string& path, Manifest& out);
Status read(const Json& j, const std::string& path, Assignment& out);
Status read(const Json& j, const std::string& path, Report& out);
Status read(const Json& j, const std::string& path, ReportReply& out);
Status read(const Json& j, const std::string& path, Replication& out);
Status read(const Json& j, const std::string& path, Requirements& out);
Status read(const Json& j, const std::string& path, RawSpec& out);
Status read(const Json& j, const std::string& path, GameSpec& out);
Status read(const Json& j, const std::string& path, WorkloadSpec& out);
Status read(const Json& j, const std::string& path, UnitCounts& out);
Status read(const Json& j, const std::string& path, WorkloadStatus& out);
Status read(const Json& j, const std::string& path, HostInfo& out);
Status read(const Json& j, const std::string& path, Error& out);
Status read(const Json& j, const std::string& path, ReplicaReport& out);
Status read(const Json& j, const std::string& path, UnitReport& out);
Status read(const Json& j, const std::string& path, UnitLine& out);
Status read(const Json& j, const std::string& path, WorkloadReport& out);
Status read(const Json& j, const std::string& path, HostReport& out);
Status read(const Json& j, const std::string& path, ReportSummary& out);

Json js(const KernelSpeed& v);
Json js(const DeviceCaps& v);
Json js(const RegisterHost& v);
Json js(const Registered& v);
Json js(const WorkRequest& v);
Json js(const Manifest& v);
Json js(const Assignment& v);
Json js(const Report& v);
Json js(const ReportReply& v);
Json js(const Replication& v);
Json js(const Requirements& v);
Json js(const RawSpec& v);
Json js(const GameSpec& v);
Json js(const WorkloadSpec& v);
Json js(const UnitCounts& v);
Json js(const WorkloadStatus& v);
Json js(const HostInfo& v);
Json js(const Error& v);
Json js(const ReplicaReport& v);
Json js(const UnitReport& v);
Json js(const UnitLine& v);
Json js(const WorkloadReport& v);
Json js(const HostReport& v);
Json js(const ReportSummary& v);

// ---- scalar readers ----
inline Status read(const Json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) return wrong_type(path, "a string", j);
  out = j.get<std::string>();
  return Status::Ok();
}
inline Status read(const Json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) return wrong_type(path, "true or false", j);
  out = j.get<bool>();
  return Status::Ok();
}
inline Status read(const Json& j, const std::string& path, uint64_t& out) {
  if (!j.is_number_unsigned()) return wrong_type(path, "an unsigned integer", j);
  out = j.get<uint64_t>();
  return Status::Ok();
}
inline Status read(const Json& j, const std::string& path, uint32_t& out) {
  uint64_t v = 0;
  P2C2R_RETURN_IF_ERROR(read(j, path, v));
  if (v > UINT32_MAX) return invalid_argument(path + ": " + std::to_string(v) + " is too large");
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}
inline Status read(const Json& j, const std::string& path, int64_t& out) {
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return invalid_argument(path + ": value is too large");
    out = static_cast<int64_t>(j.get<uint64_t>());
    return Status::Ok();
  }
  if (!j.is_number_integer()) return wrong_type(path, "an integer", j);
  out = j.get<int64_t>();
  return Status::Ok();
}
inline Status read(const Json& j, const std::string& path, double& out) {
  if (!j.is_number()) return wrong_type(path, "a number", j);
  out = j.get<double>();
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::vector<T>& out);
template <typename T>
Status read(const Json& j, const std::string& path, std::map<std::string, T>& out);

template <typename T>
Status read(const Json& j, const std::string& path, std::optional<T>& out) {
  T v{};
  P2C2R_RETURN_IF_ERROR(read(j, path, v));
  out = std::move(v);
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::vector<T>& out) {
  if (!j.is_array()) return wrong_type(path, "an array", j);
  out.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    T v{};
    P2C2R_RETURN_IF_ERROR(read(j[i], path + "[" + std::to_string(i) + "]", v));
    out.push_back(std::move(v));
  }
  return Status::Ok();
}

template <typename T>
Status read(const Json& j, const std::string& path, std::map<std::string, T>& out) {
  if (!j.is_object()) return wrong_type(path, "an object", j);
  out.clear();
  for (const auto& [k, v] : j.items()) {
    T value{};
    P2C2R_RETURN_IF_ERROR(read(v, join(path, k), value));
    out.emplace(k, std::move(value));
  }
  return Status::Ok();
}

// Reads the fields of one JSON object, remembering which were consumed so
// that finish() can refuse the rest.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}
  Status check_object() const {
    return j_.is_object() ? Status::Ok() : wrong_type(path_, "an object", j_);
  }
  template <typename T>
  Status required(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return invalid_argument(join(path_, key) + ": required field is missing");
    return read(*it, join(path_, key), out);
  }
  template <typename T>
  Status optional(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    return read(*it, join(path_, key), out);
  }
  Status finish() const {
    for (const auto& [k, v] : j_.items()) {
      if (!seen_.count(k)) return invalid_argument(join(path_, k) + ": unknown field");
    }
    return Status::Ok();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

#define P2C2R_FIELDS_BEGIN(Type)                                   \
  Status read(const Json& j, const std::string& path, Type& out) { \
    Fields f(j, path);                                             \
    P2C2R_RETURN_IF_ERROR(f.check_object());
#define P2C2R_FIELDS_END \
  return f.finish();     \
  }
#define REQ(name) P2C2R_RETURN_IF_ERROR(f.required(#name, out.name))
#define OPT(name) P2C2R_RETURN_IF_ERROR(f.optional(#name, out.name))

template <typename T>
Result<T> from_json(const Json& j) {
  T out{};
  P2C2R_RETURN_IF_ERROR(read(j, "", out));
  return out;
}

template <typename T>
Result<T> parse(std::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("body: malformed JSON");
  return from_json<T>(j);
}

template <typename T>
Json to_json(const T& value) {
  return js(value);
}

#define P2C2R_WIRE_TYPE(T)                       \
  template Result<T> parse<T>(std::string_view); \
  template Result<T> from_json<T>(const Json&);  \
  template Json to_json<T>(const T&);

}  // namespace p2c2r::wire
