// Not part of any binary: CTest compiles it (tests/unit/CMakeLists.txt) to prove that
// Result and Status are [[nodiscard]] types. With I8C_DROP_A_STATUS or I8C_DROP_A_RESULT
// it must not compile; without either it must, so that a failure is the dropped result's
// and nothing else's.
#include "common/error.hpp"
#include "common/try.hpp"

namespace integr8scode {

Status Check(bool ok) { return ok ? Status{} : Fail(ErrorCode::kInternal, "check failed"); }

Result<int> Count(bool ok) {
  if (!ok) return Fail(ErrorCode::kInternal, "count failed");
  return 1;
}

Result<int> UsesEveryAllowedForm() {
  I8C_TRY(Check(true));
  const int counted = I8C_TRY_VALUE(Count(true));
  IgnoreResult(Check(false), "this check's own example of dropping on purpose");
  if (Status checked = Check(true); !checked) return Fail(std::move(checked).error());
#ifdef I8C_DROP_A_STATUS
  Check(false);
#endif
#ifdef I8C_DROP_A_RESULT
  Count(false);
#endif
  return counted;
}

}  // namespace integr8scode
