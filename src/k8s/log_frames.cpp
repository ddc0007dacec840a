#include "k8s/log_frames.hpp"

#include <charconv>
#include <vector>

namespace integr8scode::podlog {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Record(std::string_view kind, std::string_view payload) {
  std::string line;
  line.reserve(kPrefix.size() + kind.size() + payload.size() + 2);
  line.append(kPrefix).append(kind).append(" ").append(payload).append("\n");
  return line;
}

std::string_view StopName(StepStop stop) {
  switch (stop) {
    case StepStop::kNone:
      return "none";
    case StepStop::kTimeout:
      return "timeout";
    case StepStop::kStdoutCap:
      return "stdout";
    case StepStop::kStderrCap:
      return "stderr";
  }
  return "none";
}

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string Optional(const std::optional<int>& value) {
  return value ? std::to_string(*value) : std::string("-");
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const int a = value(text[i]), b = value(text[i + 1]);
    const bool last = i + 4 == text.size();
    const bool pad2 = last && text[i + 2] == '=';
    const bool pad1 = last && text[i + 3] == '=';
    const int c = pad2 ? 0 : value(text[i + 2]);
    const int d = pad1 ? 0 : value(text[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad1)) return std::nullopt;
    const unsigned n = static_cast<unsigned>(a) << 18 | static_cast<unsigned>(b) << 12 |
                       static_cast<unsigned>(c) << 6 | static_cast<unsigned>(d);
    out += static_cast<char>(n >> 16 & 255);
    if (!pad2) out += static_cast<char>(n >> 8 & 255);
    if (!pad1) out += static_cast<char>(n & 255);
  }
  return out;
}

std::string EncodeStdout(std::string_view bytes) { return Record("o", Base64Encode(bytes)); }
std::string EncodeStderr(std::string_view bytes) { return Record("e", Base64Encode(bytes)); }
std::string EncodeStepStart(std::string_view step) { return Record("start", step); }
std::string EncodeDone() { return Record("done", "-"); }

std::string EncodeStepEnd(const StepEnd& end) {
  std::string payload = end.step;
  payload += " exit=" + Optional(end.exit_code);
  payload += " signal=" + Optional(end.signal);
  payload += " errno=" + std::to_string(end.exec_errno);
  payload += " stop=" + std::string(StopName(end.stop));
  payload += " oom=" + std::to_string(end.oom_kills);
  payload += " wall_ms=" + std::to_string(end.wall_ms);
  payload += " cpu_ms=" + std::to_string(end.cpu_ms);
  payload += " peak=" + std::to_string(end.peak_memory_bytes);
  return Record("end", payload);
}

std::optional<StepEnd> ParseStepEnd(std::string_view payload) {
  std::vector<std::string_view> words;
  while (!payload.empty()) {
    const std::size_t space = payload.find(' ');
    words.push_back(payload.substr(0, space));
    if (space == std::string_view::npos) break;
    payload.remove_prefix(space + 1);
  }
  if (words.empty() || words[0].empty()) return std::nullopt;
  StepEnd end;
  end.step = std::string(words[0]);
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::size_t eq = words[i].find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = words[i].substr(0, eq);
    const std::string_view value = words[i].substr(eq + 1);
    bool ok = true;
    if (key == "exit" || key == "signal") {
      if (value != "-") {
        int number = 0;
        ok = ParseNumber(value, number);
        (key == "exit" ? end.exit_code : end.signal) = number;
      }
    } else if (key == "errno") {
      ok = ParseNumber(value, end.exec_errno);
    } else if (key == "stop") {
      if (value == "none")
        end.stop = StepStop::kNone;
      else if (value == "timeout")
        end.stop = StepStop::kTimeout;
      else if (value == "stdout")
        end.stop = StepStop::kStdoutCap;
      else if (value == "stderr")
        end.stop = StepStop::kStderrCap;
      else
        ok = false;
    } else if (key == "oom") {
      ok = ParseNumber(value, end.oom_kills);
    } else if (key == "wall_ms") {
      ok = ParseNumber(value, end.wall_ms);
    } else if (key == "cpu_ms") {
      ok = ParseNumber(value, end.cpu_ms);
    } else if (key == "peak") {
      ok = ParseNumber(value, end.peak_memory_bytes);
    }  // unknown keys: a newer wrapper; ignored
    if (!ok) return std::nullopt;
  }
  return end;
}

Decoder::Decoder(Handlers handlers, std::uint64_t skip_records)
    : handlers_(std::move(handlers)), skip_(skip_records) {}

bool Decoder::Feed(std::string_view bytes) {
  bool ok = true;
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(bytes);
      break;
    }
    if (partial_.empty()) {
      ok = Line(bytes.substr(0, newline)) && ok;
    } else {
      partial_.append(bytes.substr(0, newline));
      ok = Line(partial_) && ok;
      partial_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
  return ok;
}

bool Decoder::Finish() {
  // The wrapper ends every record with a newline: a last line without one was cut
  // (the container was killed while writing it) and is dropped, never half-decoded.
  const bool whole = partial_.empty() || !std::string_view(partial_).starts_with(kPrefix);
  partial_.clear();
  return whole;
}

bool Decoder::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.starts_with(kPrefix)) return true;
  line.remove_prefix(kPrefix.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view kind = line.substr(0, space);
  const std::string_view payload = line.substr(space + 1);
  ++records_;
  if (records_ <= skip_) {
    if (kind == "done") done_ = true;
    return true;
  }
  if (kind == "o" || kind == "e") {
    auto bytes = Base64Decode(payload);
    if (!bytes) return false;
    if (handlers_.output) handlers_.output(kind == "e", *bytes);
  } else if (kind == "start") {
    if (handlers_.step_start) handlers_.step_start(payload);
  } else if (kind == "end") {
    auto end = ParseStepEnd(payload);
    if (!end) return false;
    if (handlers_.step_end) handlers_.step_end(*end);
  } else if (kind == "done") {
    done_ = true;
    if (handlers_.done) handlers_.done();
  } else {
    return false;
  }
  return true;
}

}  // namespace integr8scode::podlog
