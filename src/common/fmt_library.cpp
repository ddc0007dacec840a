// {fmt}'s compiled part, built into our own static link. Debian packages fmt 9 as a shared
// library only, and libfmt.so pulls in libstdc++.so: every start of `integr8scode run` would
// load and relocate both (docs/benchmarks.md, "A one-shot run"). fmt ships its
// implementation as fmt/format-inl.h for exactly this use; below are the template
// instantiations that its headers leave to the library (declared `extern template` or
// only declared there).
#include <fmt/format-inl.h>

#include <locale>

namespace fmt {
inline namespace v9 {
namespace detail {

template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template locale_ref::locale_ref(const std::locale& loc);
template auto locale_ref::get<std::locale>() const -> std::locale;
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                         locale_ref);

}  // namespace detail
}  // namespace v9
}  // namespace fmt
