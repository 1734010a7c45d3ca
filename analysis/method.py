"""The statement of method that goes with every export, in Vietnamese and English side by side.

Both languages appear together in one file, whatever the reader's locale, so these texts are
data here rather than entries of the Babel catalogues.
"""

METHOD = [
    (
        "Chỉ số tiêu chí và tỷ lệ bị yêu cầu sổ hộ khẩu: tỷ lệ câu trả lời 4 hoặc 5 trên số câu "
        "trả lời từ 1 đến 5 (không tính câu để trống và câu 'không có ý kiến'); khoảng tin cậy "
        "95% Wilson.",
        "Criterion indexes and the household-register rate: the share of answers 4 or 5 among "
        "answers 1-5 (blank and 'no opinion' left out); 95% Wilson score interval.",
    ),
    (
        "Chỉ số yếu tố và chỉ số chung: trung bình các chỉ số tiêu chí (trong chỉ số chung mỗi "
        "yếu tố có trọng số bằng nhau); phương sai tuyến tính hóa theo người trả lời; khoảng "
        "tin cậy 95% trên thang logit với phân phối Student t, n - 1 bậc tự do; với một người "
        "trả lời, phương sai lấy bằng 0, như p(1 - p)/n của một tiêu chí.",
        "Element and overall indexes: the mean of the criterion indexes (each element weighs "
        "the same in the overall index); variance linearised over respondents; 95% interval on "
        "the logit scale with Student's t on n - 1 degrees of freedom; with one respondent, the "
        "variance is taken as 0, as a criterion's p(1 - p)/n is.",
    ),
    (
        "Đơn vị có đơn vị trực thuộc: bình quân có trọng số của phiếu của chính đơn vị và chỉ số "
        "của từng đơn vị trực thuộc, coi là các tầng độc lập; phương sai Σ W²·V; khoảng tin cậy "
        "95% Wilson theo cỡ mẫu hiệu dụng n_eff = p(1 - p)/V; khi chỉ một tầng có câu trả lời, "
        "lấy đúng khoảng tin cậy của tầng đó.",
        "A unit with units under it: the weighted mean of its own responses and each child "
        "unit's figure, as independent strata; variance Σ W²·V; 95% Wilson interval on the "
        "effective sample size n_eff = p(1 - p)/V; where a single stratum has answers, that "
        "stratum's own interval.",
    ),
    (
        "Phản ánh, kiến nghị (Quyết định 766/QĐ-TTg), trong thẩm quyền của đơn vị: đúng hạn = số "
        "đã trả lời đến hết hạn ÷ số tiếp nhận trong kỳ đã trả lời hoặc đã quá hạn, trong đó "
        "phản ánh, kiến nghị chưa xử lý đã quá hạn được tính là trễ hạn dù chưa được phân loại "
        "hoặc chưa được chuyển đi; hài lòng = "
        "(số đã trả lời trong kỳ - số từng bị đánh giá 'không hài lòng', kể cả khi đã mở lại) ÷ "
        "số đã trả lời trong kỳ; hài lòng về thủ tục hành chính = (số hồ sơ có mã trên giấy hẹn "
        "cấp trong kỳ - số hồ sơ bị đánh giá 'không hài lòng' hoặc có phản ánh, kiến nghị về tiếp "
        "nhận, giải quyết, trễ hạn) ÷ số hồ sơ có mã trên giấy hẹn cấp trong kỳ, trong đó hồ sơ "
        "bị đánh giá 'không hài lòng' khi phiếu khảo sát theo mã trên giấy hẹn (không bị loại) có "
        "ít nhất một nửa số tiêu chí đã trả lời (1-5) ở mức 1 hoặc 2, và phản ánh, kiến nghị về "
        "tiếp nhận, giải quyết, trễ hạn là phản ánh, kiến nghị ghi mã trên giấy hẹn của hồ sơ với "
        "chủ đề thái độ cán bộ, giấy tờ hoặc phí ngoài quy định, hoặc trễ hạn; khoảng tin cậy 95% "
        "Wilson; số tiếp nhận = số phản ánh, kiến nghị đơn vị nhận trong kỳ; cộng dồn cả các đơn "
        "vị trực thuộc.",
        "PAKN (Decision 766/QĐ-TTg), within the unit's competence: on time = answered by the due "
        "date ÷ those received in the period that are answered or past due, where an open PAKN "
        "past its due date counts as late even if it is not yet classified or forwarded; "
        "satisfaction = "
        "(answered in the period - those ever rated 'not satisfied', reopened or not) ÷ answered "
        "in the period; satisfaction with procedures = (dossiers whose receipt code was issued in "
        "the period - those rated 'không hài lòng' or with a PAKN about reception, handling or "
        "lateness) ÷ dossiers whose receipt code was issued in the period, where a dossier is "
        "rated 'không hài lòng' when its receipt's survey response (not excluded) answered at "
        "least half of the criteria it answered (1-5) with 1 or 2, and a PAKN about reception, "
        "handling or lateness is one that names the dossier's receipt code with the topic staff "
        "attitude, documents or fees beyond the rules, or delay; 95% Wilson intervals; received "
        "= the PAKN the unit received in the period; summed over the units below.",
    ),
    (
        "Tỷ lệ ghi dưới dạng số từ 0 đến 1 (CSV, JSON, dấu thập phân '.'); bảng tính hiển thị "
        "phần trăm, dấu thập phân theo thiết lập vùng của máy (ví dụ 80,41%).",
        "Proportions are numbers from 0 to 1 (CSV, JSON, '.' decimal point); the spreadsheet "
        "shows percentages with the viewer's decimal mark (80,41% in Vietnamese settings).",
    ),
]

WEIGHTING = {
    "respondents": (
        "Trọng số theo số người trả lời (chỉ số gộp).",
        "Weights by number of respondents (the pooled figure).",
    ),
    "population": (
        "Trọng số theo dân số của đơn vị trực thuộc; một đơn vị có đơn vị trực thuộc (có câu trả "
        "lời) chưa có dân số (hoặc dân số bằng 0) thì mọi đơn vị trực thuộc của nó được tính theo "
        "số người trả lời.",
        "Weights by the child units' population; a unit with any child (with answers) of unknown "
        "population (or 0) weights all its children by respondents.",
    ),
}

# Which units the figures are of: analysis.indexes.Query.today_units (docs/methods.md,
# "Today's units").
UNITS = {
    "then": (
        "Đơn vị như trong kỳ: mỗi câu trả lời được tính cho đơn vị đã nhận nó.",
        "Units as they were during the period: each answer counts for the unit that received it.",
    ),
    "today": (
        "Theo đơn vị hiện nay: câu trả lời của một đơn vị đã sáp nhập được tính cho đơn vị nó "
        "sáp nhập vào (đơn vị cuối cùng, nếu sáp nhập nhiều lần); chỉ có các đơn vị còn hoạt "
        "động hôm nay.",
        "Today's units: the answers of a unit merged into another count as those of the unit it "
        "merged into (the last one, after several mergers); only the units that exist today "
        "are shown.",
    ),
}

OPTIONS = {
    "compare": (
        "Thay đổi = kỳ này - kỳ so sánh; khoảng tin cậy 95% với V = V1 + V2; 'có ý nghĩa thống "
        "kê' khi khoảng không chứa 0. Chỉ số bằng 0 hoặc 1 (phương sai 0) được so sánh với "
        "phương sai suy ra từ khoảng tin cậy của nó: V = ((cận trên - cận dưới)/1,96)².",
        "Change = this period - the earlier one; 95% interval with V = V1 + V2; significant "
        "when the interval excludes 0. A figure of 0 or 1 (variance 0) is compared with the "
        "variance its interval implies: V = ((high - low)/1.96)².",
    ),
    "ranks": (
        "Thứ hạng giữa các đơn vị cùng cấp trên (1 = hài lòng nhất), kèm khoảng thứ hạng đồng "
        "thời 95% (Mogstad, Romano, Shaikh & Wilhelm 2024); chỉ số bằng 0 hoặc 1 như khi so "
        "sánh thay đổi.",
        "Rank among sibling units (1 = most satisfied), with simultaneous 95% rank intervals "
        "(Mogstad, Romano, Shaikh & Wilhelm 2024); a figure of 0 or 1 as for changes.",
    ),
    "shrink": (
        "Ước lượng co rút Bayes thực nghiệm (beta-nhị thức) giữa các đơn vị cùng cấp trên, đặt "
        "bên cạnh chỉ số gốc, không thay thế. Khi các đơn vị cùng cấp trên không chênh lệch "
        "nhau hơn mức do ngẫu nhiên (phương sai giữa các đơn vị ước lượng bằng 0), mọi đơn vị "
        "đều nhận cùng một giá trị gộp: đó là kết quả của phương pháp, không phải lỗi.",
        "Empirical-Bayes (beta-binomial) estimate among sibling units, beside the raw figure, "
        "never instead of it. Where the siblings differ no more than chance (the estimated "
        "variance between units is 0), every one of them gets the same pooled value: that is "
        "the method's answer, not a fault.",
    ),
}

# Each named with the analysis page's words (analysis/report_table.FLAG_WORDS; a test checks).
FLAGS = {
    "suppressed": (
        "Dưới 10 phiếu: không hiển thị chỉ số (—), chỉ ghi n.",
        "Under 10 answers: the figure is withheld (—), only n is given.",
    ),
    "few_answers": (
        "Ít phiếu: n dưới 30 (với đơn vị tổng hợp: n hoặc n_eff dưới 30).",
        "Few answers: n under 30 (for an aggregate: n or n_eff under 30).",
    ),
    "imprecise": (
        "Kém chính xác: khoảng tin cậy 95% rộng từ 0,30 trở lên.",
        "Imprecise: the 95% interval is 0.30 wide or more.",
    ),
}

COLUMNS = {
    "unit_code": ("Mã đơn vị", "Unit code"),
    "unit_name": ("Tên đơn vị", "Unit name"),
    "level": ("Cấp", "Level"),
    "period_start": ("Từ ngày", "First day"),
    "period_end": ("Đến ngày", "Last day"),
    "measure": (
        "Chỉ số: overall (chung), element:A (yếu tố A), criterion:A1 (tiêu chí A1), "
        "household_register_asked (bị yêu cầu sổ hộ khẩu)",
        "Measure: overall, element:A, criterion:A1, household_register_asked",
    ),
    "n": (
        "Số câu trả lời (số người trả lời với chỉ số tổng hợp)",
        "Answers (respondents, for a composite)",
    ),
    "estimate": ("Chỉ số", "Estimate"),
    "ci_low": ("Cận dưới khoảng tin cậy 95%", "95% interval, low"),
    "ci_high": ("Cận trên khoảng tin cậy 95%", "95% interval, high"),
    "flag": ("Cảnh báo (xem trên)", "Flag (see above)"),
    "previous_estimate": ("Chỉ số kỳ so sánh", "Estimate in the earlier period"),
    "change": ("Thay đổi", "Change"),
    "change_ci_low": ("Cận dưới của thay đổi", "Change, 95% interval low"),
    "change_ci_high": ("Cận trên của thay đổi", "Change, 95% interval high"),
    "significant": ("Thay đổi có ý nghĩa thống kê", "Change is significant"),
    "rank": ("Thứ hạng", "Rank"),
    "rank_low": ("Thứ hạng tốt nhất trong khoảng", "Rank interval, best"),
    "rank_high": ("Thứ hạng kém nhất trong khoảng", "Rank interval, worst"),
    "rank_among": ("Số đơn vị được xếp hạng", "Units ranked together"),
    "shrunk_estimate": ("Chỉ số co rút", "Shrunk estimate"),
    "shrunk_pooled": (
        "Các đơn vị cùng cấp trên không chênh lệch hơn mức ngẫu nhiên: chỉ số co rút là giá "
        "trị gộp",
        "The siblings differ no more than chance: the shrunk estimate is the pooled value",
    ),
    "weighting": (
        "Trọng số thực dùng cho chỉ số của dòng: population (theo dân số) hoặc respondents "
        "(theo số người trả lời, kể cả khi đã chọn theo dân số mà một đơn vị trực thuộc có câu "
        "trả lời chưa có dân số; chỉ số phản ánh, kiến nghị luôn cộng dồn số lượng)",
        "The weighting this row's figure was combined with: population, or respondents (also "
        "where population was asked for but a unit under it with answers has no population; "
        "PAKN ratios are always summed counts)",
    ),
}

# Said on the method sheet only when it happened in the file's figures, or holds the sheet.
NOTES = {
    "report": (
        "Bảng tổng hợp: mỗi đơn vị một dòng theo thứ tự của cây đơn vị (đơn vị cấp trên trước "
        "các đơn vị trực thuộc, tên thụt lề theo cấp), các chỉ số đặt cạnh nhau, đúng bằng các "
        "chỉ số ở các trang theo cấp. Ô để trống: chỉ số không công bố (dưới 10 phiếu). Các cột "
        "cảnh báo ghi 'ít phiếu' hoặc 'kém chính xác' như trang phân tích. Cột trọng số ghi "
        "trọng số của các chỉ số hài lòng của dòng, như cột weighting ở các trang theo cấp, và "
        "nêu tên chỉ số nào được tính theo trọng số khác.",
        "Summary: one row per unit in the unit tree's order (a unit before the units under it, "
        "names indented by depth), the figures side by side, the same as on the sheets by "
        "level. An empty cell: the figure is withheld (fewer than 10 answers). The flag columns "
        "say 'few answers' or 'imprecise', as the analysis page does. The weighting column "
        "says what the row's satisfaction figures were combined with, as the column weighting "
        "of the sheets by level does, naming any figure combined otherwise.",
    ),
    "shrunk_pooled": (
        "Trong tệp này có nhóm đơn vị cùng cấp trên không chênh lệch nhau hơn mức do ngẫu nhiên: "
        "mỗi đơn vị trong nhóm được hiển thị bằng giá trị gộp của nhóm (cột shrunk_pooled = "
        "true), nên chỉ số co rút của chúng bằng nhau.",
        "In this file some sibling units differ no more than chance: each of them is shown at "
        "the group's pooled value (column shrunk_pooled = true), so their shrunk estimates are "
        "identical.",
    ),
}

LABELS = {
    "title": ("Chỉ số hài lòng của người dân", "Citizen satisfaction indexes"),
    "period": ("Kỳ", "Period"),
    "earlier": ("Kỳ so sánh", "Compared with"),
    "weighting": ("Trọng số", "Weighting"),
    "units": ("Đơn vị", "Units"),
    "channels": ("Kênh", "Channels"),
    "questionnaires": ("Phiên bản phiếu", "Questionnaire versions"),
    "level": ("Cấp", "Level"),
    "unit": ("Đơn vị", "Unit"),
    "all": ("tất cả", "all"),
    "method": ("Phương pháp", "Method"),
    "flags": ("Cảnh báo", "Flags"),
    "columns": ("Các cột", "Columns"),
    "generated": ("Thời điểm lập", "Generated at"),
    "report": ("Bảng tổng hợp", "Summary"),
}


def english_method(weighting: str) -> str:
    """Return the method in English for a file's metadata."""
    return " ".join([en for _vi, en in METHOD[:3]] + [WEIGHTING[weighting][1]])
