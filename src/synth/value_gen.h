// How synth draws one column's values: from the profile's NULL count, kept values, quantiles and
// text lengths, with two populations kept apart.
//
// A kept tenant (the heaviest, the unusual ones) gets its own exact figures: its NULLs, its rows of
// each value, its negative and zero numbers and its smallest and largest value, placed on its rows
// by their rank within the tenant (rotated per column, so that two columns' NULLs do not fall on the
// same rows). Every other tenant draws from the *residual*: the column's totals minus what the kept
// tenants hold. So a value, a NULL or a negative number that production has in three tenants only is
// in those three tenants in the synthetic database too, and not spread over all of them.
//
// Every draw is a function of (seed, column, row): a row can be written again, identical, in a later
// pass (the rows loaded after ANALYZE).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "synth/bulk_writer.h"
#include "synth/profile.h"

namespace strata::synth {

// A kept tenant's own figures for one column.
struct ColumnQuota {
  bool covered = false;  // the profile has the tenant's own figures for this column
  int64_t nulls = 0;
  std::vector<std::pair<size_t, int64_t>> values;  // (index into the column's values, rows)
  int64_t negatives = 0;
  int64_t zeros = 0;
  bool has_range = false;
  double min = 0, max = 0;
  // A near-unique column: the tenant's rows repeating a value, and the most rows sharing one.
  int64_t duplicates = 0;
  int64_t per_value = 0;
  uint64_t salt = 0;  // tells one tenant's repeated values from another's
};

// Whether the profile has a kept tenant's own figures for a column ("orders.member_id"): only for
// the columns where it is unusual. Elsewhere it draws its values as the typical tenants do.
bool Covers(const KeptTenant& tenant, const std::string& where);

class ColumnGen {
 public:
  // kept: the profile's kept tenants in the order synth numbers them; rows_of_kept: each one's rows in
  // this table (the denominators of the residual).
  // rows: the table's rows (a column that follows the physical order draws by the row's position).
  ColumnGen(const Profile& profile, const TableProfile& table, const ColumnProfile& column, Dialect target,
            uint64_t seed, bool unique, int64_t table_rows);
  // Writes the value of row `row`. quota: the kept tenant's figures (nullptr for any other tenant);
  // slot: the row's rank within its tenant; tenant_rows: the tenant's rows in this table.
  void Write(BulkWriter* out, uint64_t row, const ColumnQuota* quota, int64_t slot, int64_t tenant_rows);
  // The figures of one kept tenant for this column (counts keyed as KeptTenant::counts).
  ColumnQuota QuotaFor(const KeptTenant& tenant) const;
  const ColumnProfile& column() const { return c_; }

 private:
  enum class Region { kAny, kNegative, kZero, kNonNegative };
  void WriteNumber(BulkWriter* out, double v);
  // extreme: -1 the kept tenant's smallest, 1 its largest, 0 a draw (within its range).
  void WriteDrawn(BulkWriter* out, uint64_t row, double u, Region region, const ColumnQuota* quota, int extreme);
  void WriteValue(BulkWriter* out, size_t index);
  void WriteText(BulkWriter* out, uint64_t row, double u);
  double Quantile(double u) const;  // the inverse of the profiled distribution
  double Cdf(double x) const;
  double CdfAbove(double x) const;

  const ColumnProfile& c_;
  std::string table_;
  Dialect target_;
  uint64_t seed_;
  uint64_t what_;
  bool unique_;
  // The residual, for tenants that are not kept.
  double null_p_ = 0, negative_p_ = 0, zero_p_ = 0;
  double typical_lo_ = 0, typical_hi_ = 1;
  double rows_ = 0;  // the table's rows, for a column that follows the physical order
  int ordered_ = 0;  // 1: its values rise with the row's position; -1: fall; 0: no order  // the ranks of the typical
                     // tenants' smallest and largest
  std::vector<double> value_cdf_;    // cumulative shares of c_.values
  std::vector<std::string> labels_;  // an enum's labels, when its values are not kept
  std::string buf_;
};

}  // namespace strata::synth
