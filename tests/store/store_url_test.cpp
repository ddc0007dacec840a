#include "store/store_url.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

void ExpectSqlite(std::string_view url, std::string_view path) {
  auto parsed = ParseStoreUrl(url);
  ASSERT_TRUE(parsed) << url << ": " << parsed.error().message;
  EXPECT_EQ(parsed->kind, StoreUrl::Kind::kSqlite) << url;
  EXPECT_EQ(parsed->target, path) << url;
}

TEST(StoreUrl, SqliteForms) {
  ExpectSqlite("sqlite:///var/lib/integr8scode/data.db", "/var/lib/integr8scode/data.db");
  ExpectSqlite("sqlite:data/store.db", "data/store.db");
  ExpectSqlite("sqlite:/abs.db", "/abs.db");
  ExpectSqlite("sqlite::memory:", ":memory:");
  ExpectSqlite("data/store.db", "data/store.db");
  ExpectSqlite("/srv/store.db", "/srv/store.db");
}

TEST(StoreUrl, PostgresUrlsPassThrough) {
  for (const char* url :
       {"postgres://u:p@db:5432/app", "postgresql://localhost/app?sslmode=require"}) {
    auto parsed = ParseStoreUrl(url);
    ASSERT_TRUE(parsed) << url;
    EXPECT_EQ(parsed->kind, StoreUrl::Kind::kPostgres);
    EXPECT_EQ(parsed->target, url);
  }
}

TEST(StoreUrl, BadUrlsNameTheFieldAndTheAcceptedForms) {
  for (const char* url : {"", "mysql://u@h/db", "sqlite://host/db.sqlite", "sqlite:"}) {
    auto parsed = ParseStoreUrl(url);
    ASSERT_FALSE(parsed) << url;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(parsed.error().field, "database.url") << url;
    EXPECT_NE(parsed.error().message.find("sqlite:///"), std::string::npos) << url;
  }
}

TEST(StoreUrl, RedactionHidesPasswordsOnly) {
  EXPECT_EQ(RedactStoreUrl("postgresql://app:s3cret@db:5432/x"), "postgresql://app:***@db:5432/x");
  EXPECT_EQ(RedactStoreUrl("postgresql://app@db/x"), "postgresql://app@db/x");
  EXPECT_EQ(RedactStoreUrl("postgresql://db/x?password=s3cret&sslmode=require"),
            "postgresql://db/x?password=***&sslmode=require");
  EXPECT_EQ(RedactStoreUrl("sqlite:///a/b.db"), "sqlite:///a/b.db");
  EXPECT_EQ(RedactStoreUrl("mysql://u:pw@h/db"), "mysql://u:***@h/db");
}

}  // namespace
}  // namespace integr8scode
