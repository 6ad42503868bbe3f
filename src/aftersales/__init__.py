"""Aftersales (售后服务管理系统): after-sales service management for systems integrators."""
