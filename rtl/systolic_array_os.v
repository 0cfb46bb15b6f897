// systolic_array_os -- ROWS x COLS INT8 output-stationary systolic array computing a whole
// GEMM tile C[M x N] = A[M x K] @ B[K x N] (int8 operands, int32 results wrapping modulo
// 2^32) from its own operand memories, fold by fold.
//
// Built from systolic_pe_os_int8. Output-stationary mapping (docs/systolic.md): M on the
// array rows, N on the columns, K streams. folds = ceil(M/ROWS) * ceil(N/COLS), a partial
// fold padded with zeros and as long as a full one. Each fold has no load phase and takes
//   K + ROWS + COLS - 2 cycles: in stream cycle t, row r receives A[m0 + r][t - r] from the
//   left and column c receives B[t - c][n0 + c] from the top (the skew is in the
//   addressing); PE(r,c) multiplies the k-th pair in cycle k + r + c, restarts its sum at
//   k = 0 and writes C[m0 + r][n0 + c] in the cycle of k = K - 1 (the result memory
//   register is the PE's output register), so the last output lands in cycle K + R + C - 3.
// Folds run back to back, so a tile takes exactly folds * (K + ROWS + COLS - 2) cycles
// = accsim.kernels.systolic.gemm_cycles(1, ROWS, COLS, M, N, K, False).
//
// Cycle counting, handshake, memory ports and reset: as systolic_array_ws (cycle 1 is the
// rising edge that samples `start`, which already runs stream cycle 0 of the first fold;
// the count ends with the rising edge that samples the one-cycle `done` pulse, inclusive;
// A at ld_addr = m*MAX_K + k (ld_sel 0), B at k*MAX_N + n (ld_sel 1), C read at
// rd_addr = m*MAX_N + n).
`timescale 1ns/1ps
module systolic_array_os #(
    parameter ROWS = 4,
    parameter COLS = 4,
    parameter MAX_M = 32,
    parameter MAX_N = 32,
    parameter MAX_K = 32,
    parameter AW = 16             // memory address width
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               start,
    input  wire [AW-1:0]      m_size,
    input  wire [AW-1:0]      n_size,
    input  wire [AW-1:0]      k_size,
    output wire               busy,
    output wire               done,
    input  wire               ld_en,
    input  wire               ld_sel,
    /* verilator lint_off UNUSEDSIGNAL */  // addresses above the memory size are ignored
    input  wire [AW-1:0]      ld_addr,
    input  wire [7:0]         ld_data,
    input  wire [AW-1:0]      rd_addr,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [31:0]        rd_data
);
    localparam integer ROWS_I = ROWS, COLS_I = COLS, MAX_N_I = MAX_N, MAX_K_I = MAX_K;
    localparam [AW-1:0] R_AW = ROWS_I[AW-1:0];
    localparam [AW-1:0] C_AW_N = COLS_I[AW-1:0];
    localparam [AW-1:0] MAX_N_AW = MAX_N_I[AW-1:0];
    localparam [AW-1:0] MAX_K_AW = MAX_K_I[AW-1:0];
    localparam [AW-1:0] ONE = 1;
    localparam A_AW = $clog2(MAX_M*MAX_K), B_AW = $clog2(MAX_K*MAX_N), C_AW = $clog2(MAX_M*MAX_N);

    reg signed [7:0]  a_mem [0:(1<<A_AW)-1];
    reg signed [7:0]  b_mem [0:(1<<B_AW)-1];
    reg signed [31:0] c_mem [0:(1<<C_AW)-1];

    reg          streaming;
    reg [AW-1:0] m_r, n_r, k_r;
    reg [AW-1:0] m_base, n_base;  // first row of A / column of B of the current fold
    reg [AW-1:0] t;               // stream cycle within the fold

    wire idle_start = !streaming && start;
    wire active = streaming || idle_start;
    // the first fold runs its stream cycle 0 in the start cycle: sizes from the inputs then
    wire [AW-1:0] m_cur = idle_start ? m_size : m_r;
    wire [AW-1:0] n_cur = idle_start ? n_size : n_r;
    wire [AW-1:0] k_cur = idle_start ? k_size : k_r;
    wire [AW-1:0] m_fold = idle_start ? {AW{1'b0}} : m_base;
    wire [AW-1:0] n_fold = idle_start ? {AW{1'b0}} : n_base;
    wire [AW-1:0] t_cur = idle_start ? {AW{1'b0}} : t;
    wire [AW-1:0] stream_len = k_cur + R_AW + C_AW_N - ONE - ONE;
    wire last_stream = active && (t_cur == stream_len - ONE);
    wire last_fold = (n_fold + C_AW_N >= n_cur) && (m_fold + R_AW >= m_cur);

    assign busy = streaming;
    assign done = last_stream && last_fold;

    wire signed [7:0]  a_left [0:ROWS-1];
    wire signed [7:0]  b_top  [0:COLS-1];
    wire signed [7:0]  a_link [0:ROWS*COLS-1];
    wire signed [7:0]  b_link [0:ROWS*COLS-1];
    wire signed [31:0] mac    [0:ROWS*COLS-1];
    wire               out_en   [0:ROWS*COLS-1];
    wire [C_AW-1:0]    out_addr [0:ROWS*COLS-1];

    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_afeed
            wire [AW-1:0] kk = t_cur - r[AW-1:0];     // wraps to a large value when t < r
            wire [AW-1:0] mm = m_fold + r[AW-1:0];
            /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
            wire [AW-1:0] addr = mm*MAX_K_AW + kk;
            /* verilator lint_on UNUSEDSIGNAL */
            wire in_skew = (r == 0) ? 1'b1 : (t_cur >= r[AW-1:0]);
            assign a_left[r] = (active && in_skew && kk < k_cur && mm < m_cur) ? a_mem[addr[A_AW-1:0]] : 8'sd0;
        end
        for (c = 0; c < COLS; c = c + 1) begin : g_bfeed
            wire [AW-1:0] kk = t_cur - c[AW-1:0];
            wire [AW-1:0] nn = n_fold + c[AW-1:0];
            /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
            wire [AW-1:0] addr = kk*MAX_N_AW + nn;
            /* verilator lint_on UNUSEDSIGNAL */
            wire in_skew = (c == 0) ? 1'b1 : (t_cur >= c[AW-1:0]);
            assign b_top[c] = (active && in_skew && kk < k_cur && nn < n_cur) ? b_mem[addr[B_AW-1:0]] : 8'sd0;
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            for (c = 0; c < COLS; c = c + 1) begin : g_col
                wire [AW-1:0] diag = r[AW-1:0] + c[AW-1:0];
                wire [AW-1:0] mm = m_fold + r[AW-1:0];
                wire [AW-1:0] nn = n_fold + c[AW-1:0];
                /* verilator lint_off UNUSEDSIGNAL */  // only the low bits address the memory
                wire [AW-1:0] addr = mm*MAX_N_AW + nn;
                /* verilator lint_on UNUSEDSIGNAL */
                systolic_pe_os_int8 pe (
                    .clk(clk), .rst(rst), .first(t_cur == diag),
                    .a_in(c == 0 ? a_left[r] : a_link[r*COLS + c - 1]),
                    .a_out(a_link[r*COLS + c]),
                    .b_in(r == 0 ? b_top[c] : b_link[(r-1)*COLS + c]),
                    .b_out(b_link[r*COLS + c]),
                    .mac(mac[r*COLS + c]));
                assign out_en[r*COLS + c] = active && (t_cur == k_cur - ONE + diag) && mm < m_cur && nn < n_cur;
                assign out_addr[r*COLS + c] = addr[C_AW-1:0];
            end
        end
    endgenerate

    integer j;
    always @(posedge clk) begin
        for (j = 0; j < ROWS*COLS; j = j + 1)
            if (out_en[j])
                c_mem[out_addr[j]] <= mac[j];
    end

    always @(posedge clk) begin
        if (rst) begin
            streaming <= 1'b0;
            t <= {AW{1'b0}};
            m_base <= {AW{1'b0}};
            n_base <= {AW{1'b0}};
        end else if (active) begin
            if (idle_start) begin
                m_r <= m_size;
                n_r <= n_size;
                k_r <= k_size;
            end
            if (last_stream) begin
                t <= {AW{1'b0}};
                streaming <= !last_fold;
                if (last_fold) begin
                    m_base <= {AW{1'b0}};
                    n_base <= {AW{1'b0}};
                end else if (n_fold + C_AW_N >= n_cur) begin
                    n_base <= {AW{1'b0}};
                    m_base <= m_fold + R_AW;
                end else begin
                    m_base <= m_fold;
                    n_base <= n_fold + C_AW_N;
                end
            end else begin
                t <= t_cur + ONE;
                streaming <= 1'b1;
                m_base <= m_fold;
                n_base <= n_fold;
            end
        end
    end

    always @(posedge clk) begin
        if (ld_en && !streaming) begin
            if (ld_sel) b_mem[ld_addr[B_AW-1:0]] <= ld_data;
            else a_mem[ld_addr[A_AW-1:0]] <= ld_data;
        end
    end
    assign rd_data = c_mem[rd_addr[C_AW-1:0]];
endmodule
