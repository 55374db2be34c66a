extension Syllable {
    /// About 400 of the most frequent Vietnamese syllables (general and administrative prose).
    /// A tie-breaker only: when two encodings both read a short text as valid syllables
    /// ("kiến" in VISCII is "kiên" in TCVN3), the reading made of common words wins.
    static let common: Set<String> = Set(
        """
        của và các có được trong là cho những với không người một này đã năm về để theo đến \
        ngày tháng từ tại như khi đó cũng hiện nhiều phải trên sau đi ra làm nhà nước việc \
        công tác quản lý dân nhân ban ủy tỉnh huyện xã phường thành phố quận sở phòng cơ quan \
        đơn vị chức cán bộ viên chính phủ quyết định nghị thông tư văn bản báo cáo kế hoạch \
        thực hiện triển khai tổ họp mời giấy thư điện tử hệ thống số hóa chuyển đổi kết quả \
        đề xuất ý kiến góp hướng dẫn chỉ đạo kiểm tra giám đốc phó trưởng chủ tịch hội đồng \
        trung ương địa phương tổng hợp tình hình kinh tế xã hội an ninh quốc phòng giáo dục y \
        tế môi trường tài nguyên nông nghiệp phát triển đầu xây dựng giao vận lao động thương \
        binh khoa học công nghệ tư pháp nội vụ ngoại sự lịch tuần quý đợt lần kỳ hạn nộp \
        trình dự thảo biên nghiệm thu danh sách đoàn khen thưởng kỷ luật tuyển cử bổ nhiệm \
        điều khoản chương mục luật lệnh quy chế tiêu chuẩn mã ký tự chữ việt nam cộng hòa \
        chủ nghĩa độc lập do hạnh phúc kính gửi trân trọng cảm ơn đề nghị xin yêu cầu thời \
        gian địa điểm nội dung tham gia dự hội thảo tập huấn đào tạo bồi dưỡng lớp học sinh \
        trường đại cao đẳng trung tâm viện bệnh xét duyệt cấp phép giấy đăng hồ sơ thủ tục \
        hành chính dịch vụ trực tuyến mạng internet máy tính phần mềm dữ liệu bảo mật an toàn \
        thông tin truyền báo chí phát thanh hình ảnh âm nhạc văn hóa thể thao du lịch lễ \
        hội đình chùa đường phố nhà ở đất đai rừng biển sông núi hồ cầu cảng sân bay ga xe ô \
        tô tàu điện nước sạch vệ sinh phòng chống dịch bệnh thiên tai lũ lụt bão mưa nắng \
        nóng lạnh gió mùa xuân hạ thu đông sáng chiều tối đêm nay mai qua hôm trước sau \
        trong ngoài trên dưới giữa bên cạnh gần xa lớn nhỏ mới cũ tốt xấu nhanh chậm đúng \
        sai hơn nhất rất quá lắm còn đang sẽ vừa mới chưa đều cùng nhau riêng chung khác \
        mỗi mọi tất cả toàn bộ phần tiếp nhận gồm bao thêm bớt tăng giảm giá tiền chi phí \
        ngân sách thuế quỹ vốn nợ thu nhập lương hưu bảo hiểm đóng trả mua bán hàng hóa \
        chợ siêu thị doanh nghiệp công ty cổ hợp tác sản xuất kinh doanh xuất khẩu nhập \
        khẩu đầu tư dự án khu công trình thi công tiến độ chất lượng hiệu quả mục tiêu \
        nhiệm vụ giải pháp chương trình đề án chiến lược chính sách pháp luật quyền lợi \
        nghĩa trách tổ chức cá nhân gia đình bố mẹ anh chị em con cháu ông bà cô chú bác \
        thầy bạn tên tuổi sinh sống mất chết khỏe mạnh yếu ốm đau thuốc khám chữa bệnh viện
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    )
}
