#include "api/json_duplicate_keys.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <set>
#include <vector>

namespace integr8scode {
namespace {

// A SAX handler for boost::json::basic_parser that only watches object names.
class DuplicateKeyHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::optional<std::string> duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    frames_.push_back({true, {}, {}});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    frames_.push_back({false, {}, "[]"});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_key_part(boost::json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, boost::system::error_code& ec) {
    key_.append(part.data(), part.size());
    Frame& frame = frames_.back();
    frame.current = std::move(key_);
    key_.clear();
    if (frame.names.insert(frame.current).second) return true;
    duplicate = Path();
    // Any error stops the parser; the caller reads `duplicate`, not the code.
    ec = boost::json::error::exception;
    return false;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::system::error_code&) {
    return true;
  }
  bool on_double(double, boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  struct Frame {
    bool object;
    std::set<std::string, std::less<>> names;
    std::string current;
  };

  std::string Path() const {
    std::string path;
    for (const Frame& frame : frames_) {
      if (!path.empty() && frame.object) path += '.';
      path += frame.current;
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::string key_;
};

}  // namespace

std::optional<std::string> FirstDuplicateKey(std::string_view json) {
  boost::json::basic_parser<DuplicateKeyHandler> parser{boost::json::parse_options{}};
  boost::system::error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  return std::move(parser.handler().duplicate);
}

}  // namespace integr8scode
